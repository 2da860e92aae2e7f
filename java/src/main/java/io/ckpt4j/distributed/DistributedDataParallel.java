package io.ckpt4j.distributed;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.nn.TorchModel;
import io.ckpt4j.parallel.DataParallel;
import io.ckpt4j.parallel.ModuleLifetime;
import io.ckpt4j.save.TorchSaver;
import io.ckpt4j.statedict.StateDict;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Python's {@code nn.parallel.DistributedDataParallel} for a model built in Java: each rank of a
 * {@link ProcessGroup} holds a replica, trains on its own shard of the data (see
 * {@link DistributedSampler}), and after each backward the gradients are averaged over the ranks,
 * so every replica takes the same optimizer step.
 *
 * <pre>{@code
 * try (ProcessGroup group = Distributed.init();
 *     DistributedDataParallel<MyNet> ddp = DistributedDataParallel.of(new MyNet(), group)) {
 *   Tensor loss = lossOf(ddp.forward(x), y);
 *   ddp.backward(loss);                   // loss.backward(), then the gradients averaged
 *   optimizer.step();
 *   StateDict.of(ddp);                    // keys "module.fc.weight", ... as Python's DDP
 * }
 * }</pre>
 *
 * <ul>
 *   <li>Construction broadcasts every parameter and buffer from rank 0 (Python's
 *       {@code _sync_module_states}; here one broadcast per tensor, in {@code parameters()} then
 *       {@code buffers()} order), so all replicas start equal.
 *   <li>{@link #synchronizeGradients()} (run by {@link #backward}) does what Python's Reducer
 *       computes, not how: the gradients, in reverse parameter order, go into flat buckets of at
 *       most {@code bucketCapBytes} per dtype (Python's {@code bucket_cap_mb=25}); each bucket is
 *       multiplied by {@code 1 / world_size} (the Reducer's pre-division) and all-reduced with
 *       SUM, and the result is copied back into the gradients. The all-reduce runs after backward,
 *       not overlapped with it: the presets' {@code Reducer} (gradient-ready hooks) is bound and
 *       was seen to work in an experiment (docs/NOTES), but is not wired here.
 *   <li>Not wire-compatible with Python's {@code DistributedDataParallel} object: that one also
 *       verifies parameter shapes (an all_gather) and broadcasts the Reducer's rebuilt bucket
 *       order in its second iteration, which this class does not mirror. A Python rank in the same
 *       job must run the same steps with {@code torch.distributed} calls (the tests do).
 *   <li>Every parameter that requires grad must have a gradient when the gradients are
 *       synchronized (Python's {@code find_unused_parameters=False}).
 * </ul>
 *
 * <p>Ownership: the wrapper owns only itself (a LibTorch {@link Module} whose child
 * {@code module} is the model's tree, hence the {@code module.} keys); neither the model nor the
 * group is closed by {@link #close()}. A second close is harmless; use after close throws
 * {@link IllegalStateException}.
 *
 * <p>Thread safety: one thread at a time (forward, backward and the step of one training loop).
 *
 * @param <M> the wrapped model's type
 */
public final class DistributedDataParallel<M extends TorchModel> extends Module {
  /** Python's {@code bucket_cap_mb=25}, in bytes. */
  public static final long DEFAULT_BUCKET_CAP_BYTES = 25L * 1024 * 1024;
  /** The class name LibTorch reports for this module. */
  private static final String CLASS_NAME = "DistributedDataParallel";
  /** The rank whose parameters every replica starts from (Python's). */
  private static final int SOURCE_RANK = 0;

  private final M model;
  private final ProcessGroup group;
  private final long bucketCapBytes;
  /** What this wrapper owns: its own LibTorch module, released once. */
  private final ModuleLifetime lifetime =
      new ModuleLifetime("this DistributedDataParallel", DistributedDataParallel.super::close);

  private DistributedDataParallel(M model, ProcessGroup group, long bucketCapBytes) {
    super(CLASS_NAME);
    this.model = model;
    this.group = group;
    this.bucketCapBytes = bucketCapBytes;
  }

  /** {@code DistributedDataParallel(model)} in {@code group}, 25 MB buckets. */
  public static <M extends TorchModel> DistributedDataParallel<M> of(M model, ProcessGroup group)
      throws CheckpointException {
    return of(model, group, DEFAULT_BUCKET_CAP_BYTES);
  }

  /**
   * {@code DistributedDataParallel(model, bucket_cap_mb=bucketCapBytes / 2^20)}: wraps the model
   * and broadcasts its parameters and buffers from rank 0. Every rank must call it at the same
   * point with a model of the same architecture and the same bucket cap: ranks whose buckets
   * differ in size send all-reduces of different lengths, which Gloo answers by aborting the
   * process from its own thread (an uncatchable {@code gloo::EnforceNotMet}, seen here), as it
   * would a Python job with mismatched collectives.
   *
   * @throws IllegalArgumentException for a bucket cap below 1 byte
   * @throws CheckpointException {@link Kind#PEER_FAILED} when a rank does not take part in the
   *     broadcast within the group's timeout
   */
  public static <M extends TorchModel> DistributedDataParallel<M> of(M model, ProcessGroup group,
      long bucketCapBytes) throws CheckpointException {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(group, "group");
    if (bucketCapBytes < 1) throw new IllegalArgumentException("bucketCapBytes < 1");
    DistributedDataParallel<M> ddp = new DistributedDataParallel<>(model, group, bucketCapBytes);
    try {
      ddp.register_module(DataParallel.MODULE_NAME, model.module());
      ddp.broadcastState();
      return ddp;
    } catch (CheckpointException | RuntimeException e) {
      ddp.close();
      throw e;
    }
  }

  /** The wrapped model: Python's {@code ddp.module}. */
  public M module() {
    return model;
  }

  /** The group the gradients are averaged in. */
  public ProcessGroup processGroup() {
    return group;
  }

  /**
   * Python's {@code if rank == 0: torch.save(ddp.module.state_dict(), path)} then
   * {@code dist.barrier()}: rank 0 writes the wrapped model's state_dict (keys without
   * {@code module.}, so a model that was never wrapped loads it as is); every rank returns once
   * it is written, and fails when rank 0 failed ({@link RankZero}).
   */
  public void saveModuleStateDict(Path path) throws CheckpointException {
    lifetime.check();
    Objects.requireNonNull(path, "path");
    RankZero.run(group, "save " + path, () -> {
      try (StateDict sd = StateDict.of(model.module())) {
        TorchSaver.save(path, sd.toPython());
      }
    });
  }

  /** The wrapped model's forward (Python's DDP forward adds nothing for a model with no buffers). */
  public Tensor forward(Tensor input) {
    lifetime.check();
    return model.forward(input);
  }

  /** {@code loss.backward()}, then {@link #synchronizeGradients()}. */
  public void backward(Tensor loss) throws CheckpointException {
    lifetime.check();
    loss.backward();
    synchronizeGradients();
  }

  /**
   * Averages every parameter's gradient over the ranks, in buckets (see the class comment). All
   * ranks must call it after the same backward.
   *
   * @throws CheckpointException {@link Kind#INVALID_VALUE} for a parameter that requires grad
   *     and has none; {@link Kind#PEER_FAILED} when a rank does not take part in time
   */
  public void synchronizeGradients() throws CheckpointException {
    lifetime.check();
    List<Tensor> grads = gradients();
    try (NoGradGuard noGrad = new NoGradGuard()) {
      for (List<Tensor> bucket : GradientBuckets.assign(grads, bucketCapBytes)) {
        reduceBucket(bucket);
      }
    } finally {
      for (Tensor g : grads) g.close();
    }
  }

  private void reduceBucket(List<Tensor> bucket) throws CheckpointException {
    List<Tensor> views = new ArrayList<>();
    try (TensorVector flats = new TensorVector()) {
      for (Tensor g : bucket) views.add(g.reshape(-1));
      for (Tensor v : views) flats.push_back(v);
      try (Tensor flat = torch.cat(flats);
          Scalar share = new Scalar(1.0 / group.worldSize())) {
        flat.mul_(share);
        group.allReduce(flat, ReduceOp.SUM);
        long offset = 0;
        for (Tensor g : bucket) {
          try (Tensor part = flat.narrow(0, offset, g.numel()); Tensor view = part.view_as(g)) {
            g.copy_(view);
          }
          offset += g.numel();
        }
      }
    } finally {
      for (Tensor v : views) v.close();
    }
  }

  /** The gradients of the parameters that require grad, in reverse parameter order. */
  private List<Tensor> gradients() throws CheckpointException {
    List<Tensor> grads = new ArrayList<>();
    try (var named = model.module().named_parameters(true)) {
      for (long i = named.size() - 1; i >= 0; i--) {
        try (Tensor p = named.get(i).value()) {
          if (!p.requires_grad()) continue;
          Tensor g = p.grad();
          if (!g.defined()) {
            for (Tensor t : grads) t.close();
            throw new CheckpointException(Kind.INVALID_VALUE, "parameter "
                + named.get(i).key().getString() + " has no gradient on rank " + group.rank()
                + ": every parameter that requires grad must take part in the loss (Python's"
                + " find_unused_parameters=False), or set requires_grad(false) on it");
          }
          grads.add(g);
        }
      }
    }
    return grads;
  }

  /** Rank 0's parameters, then buffers, broadcast into every replica's. */
  private void broadcastState() throws CheckpointException {
    try (TensorVector params = model.module().parameters(true);
        TensorVector buffers = model.module().buffers(true)) {
      for (TensorVector tensors : List.of(params, buffers)) {
        for (long i = 0; i < tensors.size(); i++) {
          try (Tensor t = tensors.get(i)) {
            group.broadcast(t, SOURCE_RANK);
          }
        }
      }
    }
  }

  /** Releases this wrapper (not the model, not the group); a second close is harmless. */
  @Override
  public void close() {
    lifetime.close();
  }

  /** Whether {@link #close()} has been called. */
  public boolean isClosed() {
    return lifetime.isClosed();
  }
}
