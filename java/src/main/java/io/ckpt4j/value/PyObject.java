package io.ckpt4j.value;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An inert Python object: what the pickle said to build, recorded, with nothing called.
 *
 * <p>An allowed-but-inert global ({@code GlobalResolver.inert}) produces these for REDUCE,
 * NEWOBJ, NEWOBJ_EX, INST and OBJ. BUILD records its state; APPEND(S) and SETITEM(S) on the object
 * (Python's {@code __reduce__} list and dict items) are recorded too. So a pickled
 * {@code argparse.Namespace} reads as {@code className() = "argparse.Namespace"},
 * {@code args() = ()}, {@code state() = {'lr': 0.1, ...}}.
 *
 * <p>Equality is identity, as for a Python object without {@code __eq__}; the object can change
 * while the pickle is read (BUILD comes after the object is used), so it is no value type.
 */
public final class PyObject {
  private final String className;
  private final PyTuple args;
  private final Map<String, Object> kwargs;
  private Object state;
  private final List<Object> listItems = new ArrayList<>();
  private final Map<Object, Object> dictItems = new LinkedHashMap<>();

  /**
   * An object of class {@code className} ("module.Name") made from {@code args} and keyword
   * arguments {@code kwargs} (NEWOBJ_EX), with no state yet.
   */
  public PyObject(String className, PyTuple args, Map<String, Object> kwargs) {
    this.className = className;
    this.args = args;
    this.kwargs = kwargs.isEmpty()
        ? Map.of()
        : Collections.unmodifiableMap(new LinkedHashMap<>(kwargs));
  }

  /** The class, "module.QualifiedName", e.g. {@code "argparse.Namespace"}. */
  public String className() {
    return className;
  }

  /** The constructor or {@code __reduce__} arguments; empty for {@code object.__new__(cls)}. */
  public PyTuple args() {
    return args;
  }

  /** Keyword arguments to {@code cls.__new__} (NEWOBJ_EX only); usually empty. */
  public Map<String, Object> kwargs() {
    return kwargs;
  }

  /**
   * What BUILD gave: usually the instance {@code __dict__} as a map, or a {@code (dict, slots)}
   * tuple; {@code null} when there was no BUILD. A later BUILD replaces an earlier one.
   */
  public Object state() {
    return state;
  }

  /** Items APPENDed to the object, in order (read-only view). */
  public List<Object> listItems() {
    return Collections.unmodifiableList(listItems);
  }

  /** Items SETITEM'd on the object, in order (read-only view). */
  public Map<Object, Object> dictItems() {
    return Collections.unmodifiableMap(dictItems);
  }

  public void setState(Object newState) {
    state = newState;
  }

  public List<Object> mutableListItems() {
    return listItems;
  }

  public Map<Object, Object> mutableDictItems() {
    return dictItems;
  }

  /** {@code className(n args)}, shallow: the object may refer to itself. */
  @Override
  public String toString() {
    return className + "(" + args.size() + " args" + (state == null ? "" : ", state") + ")";
  }
}
