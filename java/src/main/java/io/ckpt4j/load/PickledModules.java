package io.ckpt4j.load;

import io.ckpt4j.value.PyObject;
import io.ckpt4j.value.PyTuple;
import java.util.Map;

/**
 * What a whole pickled {@code nn.Module} ({@code torch.save(model)}) looks like when read as
 * inert objects: an object whose state is a {@code __dict__} holding {@code _parameters},
 * {@code _buffers} and {@code _modules}. The loader uses it to say what a refused file is;
 * {@code StateDict.fromWholeModule} to find the module.
 */
public final class PickledModules {
  public static final String PARAMETERS = "_parameters";
  public static final String BUFFERS = "_buffers";
  public static final String MODULES = "_modules";

  private PickledModules() {}

  /** True when {@code value} is an inert object whose state is an nn.Module's {@code __dict__}. */
  public static boolean isModule(Object value) {
    if (!(value instanceof PyObject o)) return false;
    Map<?, ?> dict = instanceDict(o);
    return dict != null && dict.containsKey(PARAMETERS) && dict.containsKey(BUFFERS)
        && dict.containsKey(MODULES);
  }

  /** The {@code __dict__} of an inert object (its state, or a (dict, slots) state's dict). */
  public static Map<?, ?> instanceDict(PyObject o) {
    Object state = o.state();
    if (state instanceof PyTuple t && t.size() == 2) state = t.get(0);
    return state instanceof Map<?, ?> m ? m : null;
  }

  /** The module at {@code root} or directly under one of its keys; null when there is none. */
  static PyObject near(Object root) {
    if (isModule(root)) return (PyObject) root;
    if (root instanceof Map<?, ?> map) {
      for (Object value : map.values()) {
        if (isModule(value)) return (PyObject) value;
      }
    }
    return null;
  }
}
