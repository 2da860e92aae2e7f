package io.ckpt4j.parallel;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.nativeio.NativeParallel.ReplicaScope;
import io.ckpt4j.nativeio.NativeParallel.ThreadState;
import io.ckpt4j.nn.TorchModel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * Python's {@code parallel_apply} for models whose forward is Java: replica {@code i}'s forward on
 * {@code inputs[i]}, all at once, replica 0 on the calling thread and each other on a thread of its
 * own. LibTorch takes no global lock, so the replicas' operators really run in parallel.
 *
 * <p>Each thread runs with the caller's LibTorch thread-local state (grad mode, inference mode,
 * autocast) and its replica's device current, as Python's {@code parallel_apply} sets grad mode,
 * autocast and the CUDA device per thread.
 */
final class ParallelApply {
  private static final String THREAD_NAME = "ckpt4j-replica-";

  private ParallelApply() {}

  /**
   * The outputs, in order; new references the caller owns (each replica's forward must return a
   * tensor its caller owns, as a {@link TorchModel}'s does).
   *
   * @throws CheckpointException for the lowest-numbered replica that failed, with its exception as
   *     the cause; an {@link Error} in a replica is rethrown as it is
   */
  static List<Tensor> run(List<? extends TorchModel> models, List<Tensor> inputs,
      List<String> devices) throws CheckpointException {
    int k = models.size();
    Tensor[] outputs = new Tensor[k];
    Throwable[] failures = new Throwable[k];
    List<Thread> started = new ArrayList<>(k);
    try (ThreadState state = new ThreadState()) {
      try {
        for (int r = 1; r < k; r++) {
          int i = r;
          Thread t = new Thread(() -> runOne(state, models.get(i), inputs.get(i), devices.get(i),
              outputs, failures, i), THREAD_NAME + r);
          t.setDaemon(true);
          t.start();
          started.add(t);
        }
        runOne(state, models.get(0), inputs.get(0), devices.get(0), outputs, failures, 0);
      } catch (OutOfMemoryError e) {
        // "unable to create native thread": the replicas started so far still finish below.
        failures[0] = e;
      } finally {
        joinAll(started);
      }
    }
    for (int i = 0; i < k; i++) {
      Throwable failure = failures[i];
      if (failure == null) continue;
      ParallelOps.closeAll(Arrays.asList(outputs));
      if (failure instanceof Error error) throw error;
      if (failure instanceof CheckpointException ce) throw ce;
      throw new CheckpointException(Kind.NATIVE,
          "replica " + i + " on " + devices.get(i) + " failed: "
          + CheckpointException.firstLine(failure), failure);
    }
    return List.of(outputs);
  }

  private static void runOne(ThreadState state, TorchModel model, Tensor input, String device,
      Tensor[] outputs, Throwable[] failures, int i) {
    try (ReplicaScope scope = new ReplicaScope(state, device)) {
      if (!scope.ok()) {
        failures[i] = new CheckpointException(Kind.NATIVE, "replica " + i + ": " + scope.error());
        return;
      }
      Tensor output = model.forward(input);
      if (output == null || !output.defined()) {
        if (output != null) output.close();
        failures[i] = new CheckpointException(Kind.INVALID_VALUE,
            "replica " + i + " on " + device + ": forward"
            + " returned no tensor (DataParallel gathers tensor outputs)");
        return;
      }
      outputs[i] = output;
    } catch (Throwable t) {
      failures[i] = t;
    }
  }

  /** Waits for every thread, even when interrupted (their outputs are needed, or must be freed). */
  static void joinAll(List<Thread> threads) {
    boolean interrupted = false;
    for (Thread t : threads) {
      while (true) {
        try {
          t.join();
          break;
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    }
    if (interrupted) Thread.currentThread().interrupt();
  }
}
