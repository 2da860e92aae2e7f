package io.ckpt4j.checkpoint;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.pickle.GlobalResolver;
import io.ckpt4j.pickle.PickleOptions;
import io.ckpt4j.pickle.PickleReader;
import io.ckpt4j.pickle.PickleWriter;
import io.ckpt4j.value.PyObject;
import io.ckpt4j.value.PyTuple;
import io.ckpt4j.value.PyValues;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code argparse.Namespace}, the training script's {@code args}: a loaded one (an inert
 * {@link PyObject}) read into a map of its attributes, and a map made into one for saving.
 */
final class Namespaces {
  /** The class, as pickles name it. */
  static final String CLASS = "argparse.Namespace";
  private static final String MODULE = "argparse";
  private static final String NAME = "Namespace";

  private Namespaces() {}

  static boolean isNamespace(Object value) {
    return value instanceof PyObject o && CLASS.equals(o.className());
  }

  /**
   * The attributes of a Namespace read as an inert object: its BUILD state ({@code vars(args)};
   * a {@code (dict, slots)} state gives its dict).
   */
  static LinkedHashMap<String, Object> attributes(PyObject namespace, String where)
      throws CheckpointException {
    Object state = namespace.state();
    if (state instanceof PyTuple t && t.size() == 2) state = t.get(0);
    LinkedHashMap<String, Object> out = new LinkedHashMap<>();
    if (state == null) return out;
    for (Map.Entry<?, ?> e : PyValues.toMap(state, where + " (an argparse.Namespace)").entrySet()) {
      out.put(PyValues.toStr(e.getKey(), where + " attribute name"), e.getValue());
    }
    return out;
  }

  /**
   * An inert {@code argparse.Namespace} with these attributes, which the saver writes as Python's
   * pickler does ({@code GLOBAL argparse Namespace}, {@code NEWOBJ}, {@code BUILD}).
   *
   * <p>{@link PyObject} has no public way to give an object its state; the reader's BUILD is the
   * one that does. So the object is made the way a loaded one is: the attributes are pickled as a
   * Namespace and read back with that class allowed as inert. (Small: a training script's args.)
   */
  static PyObject of(Map<String, Object> attributes) throws CheckpointException {
    LinkedHashMap<String, Object> state = new LinkedHashMap<>(attributes);
    Object marker = new Object();
    byte[] pickle = PickleWriter.toBytes(marker, (value, out) -> {
      if (value != marker) return false;
      out.global(MODULE, NAME);
      out.save(PyTuple.EMPTY);
      out.newObject();
      out.memoize(value);
      out.save(state);
      out.build();
      return true;
    });
    GlobalResolver resolver = GlobalResolver.inert(CLASS::equals)
        .orElse(GlobalResolver.pythonBuiltins());
    Object read = PickleReader.load(pickle, PickleOptions.builder().resolver(resolver)
        .where("args").build());
    return (PyObject) read;
  }
}
