package io.ckpt4j.libtorch;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.value.PyTuple;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.ClassType;
import org.bytedeco.pytorch.GenericDict;
import org.bytedeco.pytorch.GenericDictEntryRef;
import org.bytedeco.pytorch.GenericDictIterator;
import org.bytedeco.pytorch.GenericList;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.Obj;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TupleElements;

/**
 * What a TorchScript method returns, as Java values (the reader's value model), by the IValue's
 * own tag: {@link Tensor}; {@code Long} for {@code int}; {@code Double} for {@code float};
 * {@code Boolean}; {@code String}; {@code null} for {@code None}; {@link PyTuple} for a tuple;
 * {@code List} for a list; {@code Map} for a dict (iteration order kept); {@link ScriptObject} for
 * an instance of a TorchScript class; a device as its name. The other direction, guided by the
 * declared types, is {@link ScriptArguments}.
 *
 * <p>Called inside the caller's {@code PointerScope}, which frees every native object made while
 * converting, except the tensors handed back: new references the caller owns.
 */
final class ScriptResults {
  /** Return values nested deeper than this are refused (TorchScript objects can form cycles). */
  static final int MAX_DEPTH = 64;

  private ScriptResults() {}

  /**
   * The Java value of {@code value}. Tensors in it are new references the caller owns (they are
   * kept past the caller's {@code PointerScope}).
   */
  static Object toJava(IValue value, String where) throws CheckpointException {
    return toJava(value, where, 0);
  }

  private static Object toJava(IValue v, String where, int depth) throws CheckpointException {
    if (depth > MAX_DEPTH) {
      throw new CheckpointException(Kind.UNSUPPORTED_VALUE,
          where + " nests deeper than " + MAX_DEPTH
          + " levels (a cyclic TorchScript object?): ckpt4j does not convert it");
    }
    if (v.isNone()) return null;
    if (v.isTensor()) return owned(v.toTensor());
    if (v.isBool()) return v.toBool();
    if (v.isInt()) return v.toInt();
    if (v.isDouble()) return v.toDouble();
    if (v.isString()) return v.toStringRef().getString(StandardCharsets.UTF_8);
    if (v.isTuple()) {
      TupleElements elements = v.toTuple().elements();
      Object[] items = new Object[Math.toIntExact(elements.size())];
      for (int i = 0; i < items.length; i++) {
        items[i] = toJava(elements.get(i), where + "[" + i + "]", depth + 1);
      }
      return PyTuple.of(items);
    }
    if (v.isList()) {
      GenericList list = v.toList();
      List<Object> items = new ArrayList<>(Math.toIntExact(list.size()));
      for (long i = 0; i < list.size(); i++) {
        items.add(toJava(list.get(i), where + "[" + i + "]", depth + 1));
      }
      return items;
    }
    if (v.isGenericDict()) {
      GenericDict dict = v.toGenericDict();
      Map<Object, Object> map = new LinkedHashMap<>();
      GenericDictIterator end = dict.end();
      for (GenericDictIterator it = dict.begin(); it.notEquals(end); it.increment()) {
        GenericDictEntryRef entry = it.access();
        Object key = toJava(entry.key(), where + " key", depth + 1);
        map.put(key, toJava(entry.value(), where + "[" + key + "]", depth + 1));
      }
      return map;
    }
    if (v.isObject()) {
      Obj object = v.toObject();
      ClassType type = object.type();
      Map<String, Object> attributes = new LinkedHashMap<>();
      for (long i = 0; i < type.numAttributes(); i++) {
        String name = type.getAttributeName(i).getString(StandardCharsets.UTF_8);
        attributes.put(name, toJava(object.getSlot(i), where + "." + name, depth + 1));
      }
      return new ScriptObject(type.str().getString(StandardCharsets.UTF_8), attributes);
    }
    if (v.isDevice()) return v.toDevice().str().getString(StandardCharsets.UTF_8);
    throw new CheckpointException(Kind.UNSUPPORTED_VALUE,
        where + " is a TorchScript " + v.tagKind().getString()
        + ", which ckpt4j does not hand to Java (it converts tensors, numbers, bools, strings,"
        + " None, tuples, lists, dicts and objects of them)");
  }

  /**
   * Adds a reference for whoever receives {@code pointer}, so it outlives the {@code PointerScope}
   * it was made in: the scope's close drops the scope's reference, the receiver's close the last.
   */
  static <P extends Pointer> P keep(P pointer) {
    return pointer.retainReference();
  }

  /** A new reference to {@code tensor} (which may point into an IValue freed with the scope). */
  private static Tensor owned(Tensor tensor) {
    return keep(new Tensor(tensor));
  }
}
