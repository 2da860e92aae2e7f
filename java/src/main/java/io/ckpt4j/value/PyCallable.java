package io.ckpt4j.value;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import java.util.Map;

/**
 * A Python callable or class that a {@code GlobalResolver} allowed: the unpickler calls it for
 * REDUCE ({@code f(*args)}) and asks it for new instances for NEWOBJ, NEWOBJ_EX, INST and OBJ
 * ({@code cls.__new__(cls, *args, **kwargs)}).
 *
 * <p>Implementations receive values from an untrusted file: check the argument count and types
 * and throw {@link CheckpointException} with a one-line message saying what is wrong; the
 * unpickler adds where (file, byte offset, opcode). Unchecked exceptions are turned into
 * {@code CheckpointException} too, but a clear message is better.
 */
@FunctionalInterface
public interface PyCallable {
  /** {@code self(*args)}, for REDUCE. */
  Object call(PyTuple args) throws CheckpointException;

  /**
   * {@code cls.__new__(cls, *args, **kwargs)}, for NEWOBJ, NEWOBJ_EX, INST and OBJ. The default
   * is {@link #call} and refuses keyword arguments.
   */
  default Object newObject(PyTuple args, Map<String, Object> kwargs) throws CheckpointException {
    if (!kwargs.isEmpty()) {
      throw new CheckpointException(Kind.UNSUPPORTED_FORMAT,
          "keyword arguments " + kwargs.keySet() + " to a new " + this + " are not supported");
    }
    return call(args);
  }
}
