package io.ckpt4j.value;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import java.util.Map;
import java.util.Objects;

/**
 * An allowed-but-inert Python global, e.g. the class {@code argparse.Namespace}: what GLOBAL
 * pushes under {@code GlobalResolver.inert}. Used as a plain value (a class passed as an argument)
 * it stays this reference; called or instantiated it produces a {@link PyObject} that records the
 * arguments. Nothing is ever imported or run. Equal to another reference to the same global.
 */
public final class PyGlobalRef implements PyCallable {
  private final String module;
  private final String name;
  /** Why REDUCE may not call this global (it is a function, not a class); null when it may. */
  private final String callRefusal;

  /** A reference to {@code module.name}, e.g. {@code ("argparse", "Namespace")}. */
  public PyGlobalRef(String module, String name) {
    this(module, name, null);
  }

  private PyGlobalRef(String module, String name, String callRefusal) {
    this.module = Objects.requireNonNull(module, "module");
    this.name = Objects.requireNonNull(name, "name");
    this.callRefusal = callRefusal;
  }

  /**
   * A reference that may be instantiated (NEWOBJ, INST, OBJ) but not called by REDUCE: a call
   * throws {@link Kind#REFUSED_GLOBAL} with {@code refusal} as its message. Equal to the plain
   * reference to the same global.
   */
  public static PyGlobalRef uncallable(String module, String name, String refusal) {
    return new PyGlobalRef(module, name, Objects.requireNonNull(refusal, "refusal"));
  }

  /** The module, e.g. {@code "argparse"}. */
  public String module() {
    return module;
  }

  /** The name within the module, e.g. {@code "Namespace"} (may be dotted for nested classes). */
  public String name() {
    return name;
  }

  /** {@code module + "." + name}. */
  public String qualifiedName() {
    return module + "." + name;
  }

  /**
   * Records {@code self(*args)} as a {@link PyObject} of this class; refused for an
   * {@link #uncallable} reference.
   */
  @Override
  public PyObject call(PyTuple args) throws CheckpointException {
    if (callRefusal != null) throw new CheckpointException(Kind.REFUSED_GLOBAL, callRefusal);
    return new PyObject(qualifiedName(), args, Map.of());
  }

  /** Records {@code cls.__new__(cls, *args, **kwargs)} as a {@link PyObject} of this class. */
  @Override
  public PyObject newObject(PyTuple args, Map<String, Object> kwargs) {
    return new PyObject(qualifiedName(), args, kwargs);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PyGlobalRef
        && module.equals(((PyGlobalRef) o).module)
        && name.equals(((PyGlobalRef) o).name);
  }

  @Override
  public int hashCode() {
    return module.hashCode() * 31 + name.hashCode();
  }

  /** {@code <global module.name>}. */
  @Override
  public String toString() {
    return "<global " + qualifiedName() + ">";
  }
}
