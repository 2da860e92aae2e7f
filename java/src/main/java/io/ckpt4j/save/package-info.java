/**
 * Saving checkpoints in PyTorch's zip format: {@link io.ckpt4j.save.TorchSaver} writes value
 * trees (LibTorch tensors, {@link io.ckpt4j.save.Parameter}s, or the tensors of a loaded
 * checkpoint) so that Python's {@code torch.load(path)} reads them with {@code weights_only=True}.
 *
 * <p>Every save replaces its target atomically through a temporary file in the target's
 * directory, named {@code .<name>.ckpt4j-<pid>-<random>.tmp}. A failed save deletes its
 * temporary file. A save whose process is killed leaves its temporary file; the next save to the
 * same target deletes every such leftover whose process is no longer running.
 */
package io.ckpt4j.save;
