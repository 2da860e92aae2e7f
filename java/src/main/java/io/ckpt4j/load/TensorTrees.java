package io.ckpt4j.load;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.value.TensorRef;
import io.ckpt4j.value.TreeCopy;
import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * Object trees of a training checkpoint with LibTorch tensors at their leaves: a loaded tree
 * ({@link TensorRef} leaves) made into one that owns its tensors, and those tensors released.
 *
 * <p>Containers are copied (dicts keep their order and an OrderedDict its attributes, tuples stay
 * tuples); scalars, strings and inert objects are shared, since they never change. A tensor
 * reached twice (a Python object saved under two keys) becomes one Java tensor object, so the
 * sharing survives a save.
 */
public final class TensorTrees {
  private TensorTrees() {}

  /**
   * A copy of {@code tree} whose {@link TensorRef} leaves are LibTorch tensors: new references to
   * {@code ckpt}'s (they outlive its close), appended to {@code owned} for the caller to close.
   */
  public static Object materialize(Object tree, LoadedCheckpoint ckpt, List<Tensor> owned)
      throws CheckpointException {
    return TreeCopy.copy(tree, leaf -> {
      if (!(leaf instanceof TensorRef ref)) return leaf;
      // retained: a PointerScope the caller may be in releases only its own reference
      Tensor t = new Tensor(ckpt.tensor(ref)).retainReference();
      owned.add(t);
      return t;
    });
  }
}
