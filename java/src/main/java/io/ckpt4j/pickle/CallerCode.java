package io.ckpt4j.pickle;

import static io.ckpt4j.CheckpointException.Kind.MALFORMED_PICKLE;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.value.PyAppendable;
import io.ckpt4j.value.PyBuildable;
import io.ckpt4j.value.PyCallable;
import io.ckpt4j.value.PythonTypes;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * The unpickler's calls into caller code — the {@link GlobalResolver}, {@link PyCallable}s,
 * {@link PyBuildable}s, {@link PyAppendable}s and the {@link PersistentLoader} — with their
 * failures reported at the current opcode, and refused globals worded by the
 * {@link PickleRefusal} in the options.
 */
final class CallerCode {
  private final PickleInput in;
  private final PickleOptions options;
  /** The global each resolved object came from, to name callables in messages. */
  private final Map<Object, String> globalNames = new IdentityHashMap<>();

  CallerCode(PickleInput in, PickleOptions options) {
    this.in = in;
    this.options = options;
  }

  /** The resolver's value for a global, after Python 2 names are mapped to Python 3 ones. */
  Object resolve(String rawModule, String rawName) throws CheckpointException {
    String[] mapped = Py2Names.map(rawModule, rawName);
    String module = mapped[0];
    String name = mapped[1];
    options.observer().global(module, name, in.opStart());
    Object value;
    try {
      value = options.resolver().resolve(module, name);
    } catch (UnsupportedGlobalException e) {
      throw refusal(module, name, e);
    } catch (CheckpointException e) {
      throw in.error(e.kind(), "global '" + global(module, name) + "': " + e.getMessage(), e);
    } catch (RuntimeException e) {
      throw in.error(MALFORMED_PICKLE, "global '" + global(module, name) + "': " + e.getMessage(),
          e);
    }
    if (value != null) {
      globalNames.putIfAbsent(value, global(module, name));
    }
    return value;
  }

  private static String global(String module, String name) {
    return PythonTypes.printable(module + "." + name);
  }

  private UnsupportedGlobalException refusal(String module, String name, Throwable cause) {
    String where = in.where() + " at byte " + in.opStart();
    return new UnsupportedGlobalException(module, name, where,
        options.refusal().message(global(module, name), where), cause);
  }

  /** The global a resolver value came from, or its type, for messages. */
  String describe(Object value) {
    String name = globalNames.get(value);
    return name != null ? name : PythonTypes.name(value);
  }

  /** A call into caller code. */
  @FunctionalInterface
  interface Call {
    Object run() throws CheckpointException;
  }

  /**
   * Runs {@code body}, turning its failures into errors at the current opcode that name
   * {@code who}; a refused global inside is reworded by the refusal policy.
   */
  Object call(String who, Call body) throws CheckpointException {
    try {
      return body.run();
    } catch (UnsupportedGlobalException e) {
      throw refusal(e.module(), e.name(), e);
    } catch (CheckpointException e) {
      throw in.error(e.kind(), who + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      throw in.error(MALFORMED_PICKLE, who + " failed: " + PythonTypes.printable(e.toString()),
          e);
    }
  }

  /** {@code f} as a callable, or an error naming {@code role} (the opcode). */
  PyCallable callable(Object f, String role) throws CheckpointException {
    if (!(f instanceof PyCallable)) {
      throw in.error(MALFORMED_PICKLE,
          role + " needs an allowed callable or class, not " + describe(f));
    }
    return (PyCallable) f;
  }
}
