package io.ckpt4j.distributed;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.OwnedResource;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import org.bytedeco.javacpp.chrono.Milliseconds;
import org.bytedeco.pytorch.AllgatherOptions;
import org.bytedeco.pytorch.AllreduceOptions;
import org.bytedeco.pytorch.BarrierOptions;
import org.bytedeco.pytorch.BroadcastOptions;
import org.bytedeco.pytorch.ProcessGroupGloo;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.Work;

/**
 * A process group, Python's {@code torch.distributed} default group: this process is one rank of
 * {@link #worldSize()}, and the collectives here run on LibTorch's own Gloo engine
 * ({@code ProcessGroupGloo}, the same wire protocol as Python's), so Java and Python ranks can
 * share a group. Made by {@link Distributed#init}.
 *
 * <p>Every rank must call the same collectives in the same order with tensors of the same shape
 * and dtype, as in Python. This cannot be checked before sending, and Gloo does not report a
 * mismatch as an error: a peer that receives more bytes than it expects aborts its whole process
 * from a Gloo thread ({@code gloo::EnforceNotMet}, "Received data size doesn't match expected
 * size", uncatchable in Java or Python), and the other ranks then fail with
 * {@link Kind#PEER_FAILED}. Each call waits for its result (Python's default
 * {@code async_op=False}) at most its timeout (the group's, from
 * {@link DistributedOptions#withTimeout}, unless the call names one): a peer that is missing,
 * dead or slower than that is a {@link Kind#PEER_FAILED} {@link CheckpointException}, never a
 * hang, and leaves the group unusable (Gloo's state is lost): close it.
 *
 * <p>Tensors must be contiguous CPU tensors (Gloo's rule); results are written in place, as
 * Python's functions do.
 *
 * <p>Ownership: {@link #close()} is {@code destroy_process_group()}: it releases the Gloo backend
 * and the store (rank 0's store server stops with it, so rank 0 should close last, e.g. after a
 * {@link #barrier()}); a second close is harmless, a collective after close throws
 * {@link IllegalStateException}.
 *
 * <p>Thread safety: the collectives are synchronized (one at a time per group, which also keeps
 * their order deterministic); closing while another thread runs a collective is the caller's race.
 */
public final class ProcessGroup extends OwnedResource {
  private final DistributedOptions options;
  private final StoreChain stores;
  private final ProcessGroupGloo gloo;
  private final String who;

  ProcessGroup(DistributedOptions options, StoreChain stores, ProcessGroupGloo gloo) {
    this.options = options;
    this.stores = stores;
    this.gloo = gloo;
    this.who = describe(options);
  }

  /** How messages name a rank: {@code "rank 1 of 2 (tcp://127.0.0.1:29500)"}. */
  static String describe(DistributedOptions options) {
    return "rank " + options.rank() + " of " + options.worldSize() + " (" + options.initMethod()
        + ")";
  }

  /** How messages name this rank: {@code "rank 1 of 2 (tcp://127.0.0.1:29500)"}. */
  String who() {
    return who;
  }

  /** {@code dist.get_rank()}. */
  public int rank() {
    return options.rank();
  }

  /** {@code dist.get_world_size()}. */
  public int worldSize() {
    return options.worldSize();
  }

  /** {@code LOCAL_RANK}. */
  public int localRank() {
    return options.localRank();
  }

  /** {@code dist.get_backend()}: {@code "gloo"}. */
  public String backend() {
    return options.backend();
  }

  /** The port the TCPStore listens on: the one rank 0 picked when asked for port 0. */
  public int masterPort() {
    return stores.port();
  }

  /** The group's default timeout for each collective. */
  public Duration timeout() {
    return options.timeout();
  }

  /** {@code dist.all_reduce(tensor, op)} with the group's timeout. */
  public void allReduce(Tensor tensor, ReduceOp op) throws CheckpointException {
    allReduce(tensor, op, options.timeout());
  }

  /**
   * {@code dist.all_reduce(tensor, op)}: every rank's {@code tensor} becomes the reduction of all
   * ranks' tensors. {@link ReduceOp#AVG} divides the sum by the world size (floating point only).
   *
   * @throws CheckpointException {@link Kind#PEER_FAILED} when a peer does not take part within
   *     {@code timeout}; {@link Kind#INVALID_VALUE} for AVG on an integer tensor or a tensor Gloo
   *     cannot send; {@link Kind#NATIVE} for another failure of LibTorch
   */
  public synchronized void allReduce(Tensor tensor, ReduceOp op, Duration timeout)
      throws CheckpointException {
    checkTensor(tensor, "allReduce");
    Objects.requireNonNull(op, "op");
    if (op == ReduceOp.AVG && !tensor.is_floating_point()) {
      throw new CheckpointException(Kind.INVALID_VALUE, who + ": allReduce(AVG) needs a"
          + " floating-point tensor, not " + tensor.scalar_type() + ": use SUM and divide");
    }
    try (TensorVector tensors = new TensorVector(tensor);
        AllreduceOptions o = new AllreduceOptions();
        org.bytedeco.pytorch.ReduceOp nativeOp = new org.bytedeco.pytorch.ReduceOp(op.nativeOp());
        Milliseconds ms = millis(timeout)) {
      o.reduceOp(nativeOp);
      o.timeout(ms);
      run("allReduce(" + op + ")", () -> gloo.allreduce(tensors, o));
    }
    if (op == ReduceOp.AVG) {
      try (Scalar world = new Scalar(options.worldSize())) {
        tensor.div_(world);
      }
    }
  }

  /** {@code dist.broadcast(tensor, src)} with the group's timeout. */
  public void broadcast(Tensor tensor, int src) throws CheckpointException {
    broadcast(tensor, src, options.timeout());
  }

  /**
   * {@code dist.broadcast(tensor, src)}: every rank's {@code tensor} becomes rank {@code src}'s.
   *
   * @throws CheckpointException {@link Kind#INVALID_VALUE} for a {@code src} outside the group;
   *     {@link Kind#PEER_FAILED} when a peer does not take part within {@code timeout}
   */
  public synchronized void broadcast(Tensor tensor, int src, Duration timeout)
      throws CheckpointException {
    checkTensor(tensor, "broadcast");
    checkRank(src, "broadcast's src");
    try (TensorVector tensors = new TensorVector(tensor);
        BroadcastOptions o = new BroadcastOptions();
        Milliseconds ms = millis(timeout)) {
      o.rootRank(src);
      o.timeout(ms);
      run("broadcast(src=" + src + ")", () -> gloo.broadcast(tensors, o));
    }
  }

  /** {@code dist.all_gather(outputs, tensor)} with the group's timeout. */
  public void allGather(List<Tensor> outputs, Tensor tensor) throws CheckpointException {
    allGather(outputs, tensor, options.timeout());
  }

  /**
   * {@code dist.all_gather(outputs, tensor)}: {@code outputs.get(r)} becomes rank {@code r}'s
   * {@code tensor}. {@code outputs} holds {@link #worldSize()} tensors of the input's shape and
   * dtype (Python's rule).
   *
   * @throws CheckpointException {@link Kind#INVALID_VALUE} for a wrong number, shape or dtype of
   *     outputs; {@link Kind#PEER_FAILED} when a peer does not take part within {@code timeout}
   */
  public synchronized void allGather(List<Tensor> outputs, Tensor tensor, Duration timeout)
      throws CheckpointException {
    checkTensor(tensor, "allGather");
    if (outputs.size() != options.worldSize()) {
      throw new CheckpointException(Kind.INVALID_VALUE, who + ": allGather needs one output"
          + " tensor per rank, " + options.worldSize() + ", not " + outputs.size());
    }
    for (Tensor out : outputs) {
      if (!sameShape(out, tensor) || out.scalar_type().value != tensor.scalar_type().value) {
        throw new CheckpointException(Kind.INVALID_VALUE, who + ": allGather's outputs must have"
            + " the input's shape and dtype (" + tensor.scalar_type() + ")");
      }
    }
    long[] flat = {Math.multiplyExact(tensor.numel(), options.worldSize())};
    try (Tensor gathered = org.bytedeco.pytorch.global.torch.empty(flat, tensor.options(), null);
        Tensor input = tensor.reshape(tensor.numel());
        AllgatherOptions o = new AllgatherOptions();
        Milliseconds ms = millis(timeout)) {
      o.timeout(ms);
      run("allGather", () -> gloo._allgather_base(gathered, input, o));
      for (int r = 0; r < outputs.size(); r++) {
        try (Tensor part = gathered.narrow(0, r * tensor.numel(), tensor.numel());
            Tensor shaped = part.view(tensor.sizes())) {
          outputs.get(r).copy_(shaped);
        }
      }
    }
  }

  /** {@code dist.barrier()} with the group's timeout. */
  public void barrier() throws CheckpointException {
    barrier(options.timeout());
  }

  /**
   * {@code dist.barrier()}: returns once every rank has called it.
   *
   * @throws CheckpointException {@link Kind#PEER_FAILED} when a peer does not arrive within
   *     {@code timeout}
   */
  public synchronized void barrier(Duration timeout) throws CheckpointException {
    ensureOpen();
    try (BarrierOptions o = new BarrierOptions(); Milliseconds ms = millis(timeout)) {
      o.timeout(ms);
      run("barrier", () -> gloo.barrier(o));
    }
  }

  /** Runs one collective and waits for it, rewording what LibTorch throws. */
  private void run(String call, java.util.function.Supplier<Work> start)
      throws CheckpointException {
    try (Work work = start.get()) {
      work._wait();
    } catch (RuntimeException e) {
      throw C10dFailures.rewordCollective(who, call, e);
    }
  }

  private void checkTensor(Tensor tensor, String call) throws CheckpointException {
    ensureOpen();
    Objects.requireNonNull(tensor, "tensor");
    if (!tensor.is_cpu()) {
      throw new CheckpointException(Kind.DEVICE, who + ": " + call + " on backend gloo takes CPU"
          + " tensors only, not " + tensor.device().str().getString() + " (this build has no NCCL)");
    }
    if (!tensor.is_contiguous()) {
      throw new CheckpointException(Kind.INVALID_VALUE, who + ": " + call + " needs a"
          + " contiguous tensor (Gloo's rule): call .contiguous() first");
    }
  }

  private void checkRank(int r, String what) throws CheckpointException {
    if (r < 0 || r >= options.worldSize()) {
      throw new CheckpointException(Kind.INVALID_VALUE, who + ": " + what + " " + r
          + " is not a rank of this group: give one in [0, " + options.worldSize() + ")");
    }
  }

  private static boolean sameShape(Tensor a, Tensor b) {
    return java.util.Arrays.equals(a.sizes().vec().get(), b.sizes().vec().get());
  }

  private static Milliseconds millis(Duration timeout) {
    if (timeout.isZero() || timeout.isNegative()) {
      throw new IllegalArgumentException("timeout must be positive: " + timeout);
    }
    return new Milliseconds(timeout.toMillis());
  }

  @Override
  protected void releaseResources() {
    try {
      gloo.close();
    } finally {
      stores.close();
    }
  }

  @Override
  protected String resourceName() {
    return "the process group of " + who;
  }
}
