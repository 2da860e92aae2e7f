package io.ckpt4j.checkpoint;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.value.PyCounter;
import io.ckpt4j.value.TreeCopy;
import java.util.LinkedHashMap;

/**
 * Values of this package made into what {@link io.ckpt4j.save.TorchSaver} writes.
 *
 * <p>{@link PyCounter} (MultiStepLR's {@code milestones}) is written as a plain dict of the same
 * counts: the saver has no way yet to write a {@code collections.Counter} ({@code GLOBAL
 * collections Counter}, the dict, {@code REDUCE}). Python's MultiStepLR steps the same with a
 * dict; only its deprecated {@code step(epoch)} (the closed form, {@code milestones.elements()})
 * needs the Counter.
 */
final class SaveValues {
  private SaveValues() {}

  /** {@code value} with every {@link PyCounter} in it replaced by a dict of its counts. */
  static Object prepare(Object value) throws CheckpointException {
    return TreeCopy.copy(value,
        leaf -> leaf instanceof PyCounter c ? new LinkedHashMap<Object, Object>(c.counts()) : leaf);
  }
}
