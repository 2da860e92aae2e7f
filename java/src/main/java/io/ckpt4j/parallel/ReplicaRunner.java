package io.ckpt4j.parallel;

import io.ckpt4j.CheckpointException;
import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * Replicate and parallel apply for one kind of model: replica {@code i} runs on
 * {@code inputs[i]}, which lies on {@code devices[i]}.
 */
interface ReplicaRunner extends AutoCloseable {
  /**
   * The outputs of one forward per input, in order; new references the caller owns.
   *
   * @throws CheckpointException when a copy to a device or a replica's forward fails
   */
  List<Tensor> forward(List<Tensor> inputs, List<String> devices) throws CheckpointException;

  /** Releases the replicas kept between forwards; a second close is harmless. */
  @Override
  void close();
}
