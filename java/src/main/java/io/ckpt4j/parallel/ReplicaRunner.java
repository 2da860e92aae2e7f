package io.ckpt4j.parallel;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.OwnedResource;
import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * Replicate and parallel apply for one kind of model: replica {@code i} runs on
 * {@code inputs[i]}, which lies on {@code devices[i]}. {@link #close()} releases the replicas
 * kept between forwards (once; see {@link OwnedResource}).
 */
abstract class ReplicaRunner extends OwnedResource {
  /**
   * The outputs of one forward per input, in order; new references the caller owns.
   *
   * @throws CheckpointException when a copy to a device or a replica's forward fails
   */
  abstract List<Tensor> forward(List<Tensor> inputs, List<String> devices)
      throws CheckpointException;

  @Override
  protected String resourceName() {
    return "this DataParallel";
  }
}
