package io.ckpt4j.parallel;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.nn.TorchModel;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;
import org.bytedeco.pytorch.Tensor;

/**
 * The Java path, for {@link TorchModel}s, whose forward is Java code the native layer cannot call:
 * replica 0 is the wrapped model itself (its tensors are on the first device); replica
 * {@code r > 0} is a model the factory built once, whose parameters and buffers are pointed, at
 * every forward, at fresh native copies of the wrapped model's ({@link ParallelOps#replicate}, then
 * {@code ckpt4j::adopt}: no element copied twice) and whose modules take the wrapped model's
 * {@code training} flags. The forwards run on Java threads ({@link ParallelApply}).
 *
 * <p>With grad mode on, each replica parameter carries the autograd history of its copy, so a
 * backward pass through the gathered output sums every replica's gradient into the wrapped
 * model's parameters, as Python's {@code Broadcast} does. Buffers are copied without history; a
 * replica's BatchNorm running statistics are its own (in training mode only replica 0's updates
 * reach the wrapped model, as in Python).
 */
final class ModelReplicas<M extends TorchModel> extends ReplicaRunner {
  private static final String BUILDER_THREAD = "ckpt4j-replica-factory";

  private final M model;
  private final Supplier<? extends M> factory;
  /** The factory's models for devices 1, 2, ... with their state; built on first need. */
  private final List<M> replicas = new ArrayList<>();
  private final List<ModuleState> replicaStates = new ArrayList<>();

  ModelReplicas(M model, Supplier<? extends M> factory) {
    this.model = model;
    this.factory = factory;
  }

  @Override
  List<Tensor> forward(List<Tensor> inputs, List<String> devices) throws CheckpointException {
    ensureOpen();
    int k = inputs.size();
    if (k == 1) return ParallelApply.run(List.of(model), inputs, devices);
    List<M> models = new ArrayList<>(k);
    models.add(model);
    try (ModuleState master = ModuleState.of(model.module())) {
      while (replicas.size() < k - 1) addReplica(master);
      List<Tensor> copies = ParallelOps.replicateFlat(master.tensors(), devices);
      try {
        int n = master.tensors().size();
        for (int r = 1; r < k; r++) {
          ModuleState state = replicaStates.get(r - 1);
          ParallelOps.adopt(state.tensors(), copies.subList(r * n, (r + 1) * n),
              master.tensors());
          master.copyTrainingFlagsTo(state);
          models.add(replicas.get(r - 1));
        }
      } finally {
        ParallelOps.closeAll(copies);
      }
    }
    return ParallelApply.run(models, inputs, devices);
  }

  private void addReplica(ModuleState master) {
    Built<M> built = buildOutsideScopes();
    try {
      if (built.model() == model) {
        throw new IllegalArgumentException("the replica factory returned the wrapped model itself:"
            + " it must build a new model of the same architecture (e.g. MyNet::new)");
      }
      master.checkSameArchitecture(built.state());
    } catch (IllegalArgumentException e) {
      built.state().close();
      if (built.model() != model) built.model().module().close();
      throw e;
    }
    replicas.add(built.model());
    replicaStates.add(built.state());
  }

  private record Built<M>(M model, ModuleState state) {}

  /**
   * Calls the factory on a thread of its own: JavaCPP attaches every native object made on a
   * thread to that thread's innermost open {@code PointerScope}, and a replica kept between
   * forwards must not be freed when a scope the caller has open around one forward closes.
   */
  private Built<M> buildOutsideScopes() {
    Object[] result = new Object[2];
    Throwable[] failure = new Throwable[1];
    Thread builder = new Thread(() -> {
      try {
        M replica = Objects.requireNonNull(factory.get(), "the replica factory returned null");
        result[0] = replica;
        result[1] = ModuleState.of(replica.module());
      } catch (Throwable t) {
        failure[0] = t;
      }
    }, BUILDER_THREAD);
    builder.start();
    ParallelApply.joinAll(List.of(builder));
    if (failure[0] instanceof RuntimeException e) throw e;
    if (failure[0] instanceof Error e) throw e;
    if (failure[0] != null) throw new IllegalStateException(failure[0]);
    @SuppressWarnings("unchecked")
    M replica = (M) result[0];
    return new Built<>(replica, (ModuleState) result[1]);
  }

  @Override
  protected void releaseResources() {
    for (ModuleState state : replicaStates) state.close();
    for (M replica : replicas) replica.module().close();
    replicas.clear();
    replicaStates.clear();
  }
}
