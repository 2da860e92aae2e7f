package io.ckpt4j.load;

import io.ckpt4j.pickle.PyBytes;
import io.ckpt4j.pickle.PyGlobalRef;
import io.ckpt4j.pickle.PyObject;
import io.ckpt4j.pickle.PyOrderedDict;
import io.ckpt4j.pickle.PyTuple;
import io.ckpt4j.tensor.TensorRef;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Python's names for the Java values of a loaded object tree, for messages. */
public final class PythonTypes {
  private PythonTypes() {}

  public static String name(Object value) {
    if (value == null) return "None";
    if (value instanceof Boolean) return "bool";
    if (value instanceof Long || value instanceof BigInteger) return "int";
    if (value instanceof Double) return "float";
    if (value instanceof String) return "str";
    if (value instanceof PyBytes) return "bytes";
    if (value instanceof PyTuple) return "tuple";
    if (value instanceof PyOrderedDict) return "OrderedDict";
    if (value instanceof Map) return "dict";
    if (value instanceof List) return "list";
    if (value instanceof Set) return "set";
    if (value instanceof TensorRef t) return t.isParameter() ? "Parameter" : "Tensor";
    if (value instanceof PyObject o) return "object of class " + o.className();
    if (value instanceof PyGlobalRef g) return "global " + g.qualifiedName();
    return value.getClass().getSimpleName();
  }
}
