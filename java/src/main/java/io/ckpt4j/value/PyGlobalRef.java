package io.ckpt4j.value;

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

  /** A reference to {@code module.name}, e.g. {@code ("argparse", "Namespace")}. */
  public PyGlobalRef(String module, String name) {
    this.module = Objects.requireNonNull(module, "module");
    this.name = Objects.requireNonNull(name, "name");
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

  /** Records {@code self(*args)} as a {@link PyObject} of this class. */
  @Override
  public PyObject call(PyTuple args) {
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
