package io.ckpt4j.libtorch;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.OwnedResource;
import io.ckpt4j.value.PyTuple;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.CompilationUnit;
import org.bytedeco.pytorch.GenericList;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.IValueVector;
import org.bytedeco.pytorch.QualifiedName;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.Tuple;
import org.bytedeco.pytorch.Type;
import org.bytedeco.pytorch.global.torch.TypeKind;
import org.bytedeco.pytorch.global.torch;

/**
 * Java values as the arguments a TorchScript method declares: {@link IValue}s built by the
 * declared type. Java side (the reader's value model): {@link Tensor}; {@code Long} (also
 * Integer, Short, Byte) for {@code int}; {@code Double} (also Float) for {@code float};
 * {@code Boolean}; {@code String}; {@code null} for {@code None}; {@link PyTuple} (or any List)
 * for a tuple; {@code List} for {@code List[T]}; {@code Map} for {@code Dict[K, V]} (iteration
 * order kept). The other direction, results back to Java, is {@link ScriptResults}.
 *
 * <p>LibTorch's Java API cannot make a typed dict, so a {@code Dict[K, V]} argument is built by
 * two small TorchScript functions this class compiles from the declared types (only tensors,
 * numbers, bools, strings and containers of them), once per type; it owns them and
 * {@link #close} frees them.
 *
 * <p>Every other native object made while converting belongs to the caller's
 * {@code PointerScope}.
 */
final class ScriptArguments extends OwnedResource {
  private static final String NEW_DICT = "new_dict";
  private static final String PUT = "put";

  private final Map<String, CompilationUnit> dictHelpers = new HashMap<>();

  /** The IValue of {@code value} for a parameter declared as {@code type}; {@code where} names it. */
  IValue toIValue(Object value, Type type, String where) throws CheckpointException {
    TypeKind kind = kind(type);
    switch (kind) {
      case TensorType:
        if (value instanceof Tensor t) return new IValue(t);
        break;
      case IntType:
        if (isIntegral(value)) return new IValue(longValue(value, where));
        break;
      case FloatType:
        if (value instanceof Double || value instanceof Float || isIntegral(value)) {
          return new IValue(((Number) value).doubleValue());
        }
        break;
      case BoolType:
        if (value instanceof Boolean b) return new IValue(b.booleanValue());
        break;
      case StringType:
        if (value instanceof String s) return new IValue(s);
        break;
      case NoneType:
        if (value == null) return new IValue();
        break;
      case NumberType:
        if (isIntegral(value)) return new IValue(longValue(value, where));
        if (value instanceof Double || value instanceof Float) {
          return new IValue(((Number) value).doubleValue());
        }
        break;
      case OptionalType:
        return value == null ? new IValue() : toIValue(value, contained(type, 0), where);
      case TupleType:
        if (value instanceof List<?> items) return tuple(items, type, where);
        break;
      case ListType:
        if (value instanceof Collection<?> items) return list(items, type, where);
        break;
      case DictType:
        if (value instanceof Map<?, ?> map) return dict(map, type, where);
        break;
      case AnyType:
        return inferred(value, where);
      default:
        throw new CheckpointException(Kind.UNSUPPORTED_VALUE,
            where + " is declared " + str(type) + ", which ckpt4j"
            + " cannot pass from Java (it passes tensors, int, float, bool, str, None and"
            + " tuples, lists, dicts and Optionals of them)");
    }
    throw new CheckpointException(Kind.INVALID_VALUE,
        where + " is declared " + str(type) + " but was given "
        + describe(value) + javaHint(kind));
  }

  private IValue tuple(List<?> items, Type type, String where) throws CheckpointException {
    long arity = type.containedTypeSize();
    if (items.size() != arity) {
      throw new CheckpointException(Kind.INVALID_VALUE,
          where + " is declared " + str(type) + " (" + arity
          + " items) but was given a tuple of " + items.size());
    }
    IValueVector elements = new IValueVector();
    for (int i = 0; i < items.size(); i++) {
      elements.push_back(toIValue(items.get(i), contained(type, i), where + "[" + i + "]"));
    }
    return new IValue(Tuple.create(elements));
  }

  private IValue list(Collection<?> items, Type type, String where) throws CheckpointException {
    Type.TypePtr elementType = type.containedType(0);
    GenericList list = new GenericList(elementType);
    int i = 0;
    for (Object item : items) {
      list.push_back(toIValue(item, elementType.get(), where + "[" + i++ + "]"));
    }
    return new IValue(list);
  }

  private IValue dict(Map<?, ?> map, Type type, String where) throws CheckpointException {
    CompilationUnit helper = dictHelper(type, where);
    IValue dict = helper.get_function(new QualifiedName(NEW_DICT)).apply(new IValueVector());
    org.bytedeco.pytorch.Function put = helper.get_function(new QualifiedName(PUT));
    Type keyType = contained(type, 0);
    Type valueType = contained(type, 1);
    for (Map.Entry<?, ?> e : map.entrySet()) {
      String at = where + "[" + e.getKey() + "]";
      put.apply(new IValueVector(dict, toIValue(e.getKey(), keyType, where + " key"),
          toIValue(e.getValue(), valueType, at)));
    }
    return dict;
  }

  /** Two TorchScript functions that make an empty {@code Dict[K, V]} and set one item. */
  private CompilationUnit dictHelper(Type type, String where) throws CheckpointException {
    ensureOpen();
    String annotation = annotation(type);
    if (annotation == null) {
      throw new CheckpointException(Kind.UNSUPPORTED_VALUE,
          where + " is declared " + str(type) + ": ckpt4j builds"
          + " dicts of tensors, numbers, bools, strings and containers of them only");
    }
    CompilationUnit helper = dictHelpers.get(annotation);
    if (helper == null) {
      String source = "def " + NEW_DICT + "() -> " + annotation + ":\n"
          + "    d: " + annotation + " = {}\n"
          + "    return d\n"
          + "def " + PUT + "(d: " + annotation + ", k: " + annotation(contained(type, 0))
          + ", v: " + annotation(contained(type, 1)) + ") -> None:\n"
          + "    d[k] = v\n";
      try {
        helper = ScriptResults.keep(torch.compile(source));
      } catch (RuntimeException e) {
        throw LibTorchErrors.wrap("cannot build a " + annotation + " for " + where, e);
      }
      dictHelpers.put(annotation, helper);
    }
    return helper;
  }

  /** The annotation of a type made only of builtin kinds, or null. */
  static String annotation(Type type) {
    switch (kind(type)) {
      case TensorType: return "Tensor";
      case IntType: return "int";
      case FloatType: return "float";
      case BoolType: return "bool";
      case StringType: return "str";
      case NoneType: return "None";
      case OptionalType: return wrap("Optional", type);
      case ListType: return wrap("List", type);
      case DictType: return wrap("Dict", type);
      case TupleType: return type.containedTypeSize() == 0 ? "Tuple[()]" : wrap("Tuple", type);
      default: return null;
    }
  }

  private static String wrap(String name, Type type) {
    StringBuilder s = new StringBuilder(name).append('[');
    for (long i = 0; i < type.containedTypeSize(); i++) {
      String inner = annotation(type.containedType(i).get());
      if (inner == null) return null;
      s.append(i == 0 ? "" : ", ").append(inner);
    }
    return s.append(']').toString();
  }

  /** An argument declared {@code Any}: its TorchScript type follows from the Java value. */
  private IValue inferred(Object value, String where) throws CheckpointException {
    if (value == null) return new IValue();
    if (value instanceof Tensor t) return new IValue(t);
    if (value instanceof Boolean b) return new IValue(b.booleanValue());
    if (isIntegral(value)) return new IValue(longValue(value, where));
    if (value instanceof Double || value instanceof Float) {
      return new IValue(((Number) value).doubleValue());
    }
    if (value instanceof String s) return new IValue(s);
    if (value instanceof PyTuple items) {
      IValueVector elements = new IValueVector();
      for (int i = 0; i < items.size(); i++) {
        elements.push_back(inferred(items.get(i), where + "[" + i + "]"));
      }
      return new IValue(Tuple.create(elements));
    }
    throw new CheckpointException(Kind.UNSUPPORTED_VALUE,
        where + " is declared Any and was given " + describe(value)
        + ": pass a tensor, number, bool, str, None or a PyTuple of them");
  }

  /**
   * The kind of {@code type} as the enum constant itself: JavaCPP hands native enums back as new
   * instances (ordinal 0, so {@code ==} and {@code switch} fail); their {@code value} is right.
   */
  static TypeKind kind(Type type) {
    int value = type.kind().value;
    for (TypeKind k : TypeKind.values()) {
      if (k.value == value) return k;
    }
    return TypeKind.AnyType;
  }

  private static Type contained(Type type, long index) {
    return type.containedType(index).get();
  }

  private static String str(Type type) {
    return type.annotation_str().getString(StandardCharsets.UTF_8);
  }

  private static boolean isIntegral(Object value) {
    return value instanceof Long || value instanceof Integer || value instanceof Short
        || value instanceof Byte || value instanceof BigInteger;
  }

  private static long longValue(Object value, String where) throws CheckpointException {
    if (value instanceof BigInteger big) {
      try {
        return big.longValueExact();
      } catch (ArithmeticException e) {
        throw new CheckpointException(Kind.INVALID_VALUE,
            where + ": " + big + " does not fit TorchScript's int"
            + " (64-bit)");
      }
    }
    return ((Number) value).longValue();
  }

  private static String describe(Object value) {
    return value == null ? "null (None)" : "a " + value.getClass().getSimpleName();
  }

  private static String javaHint(TypeKind kind) {
    return switch (kind) {
      case TensorType -> ": pass an org.bytedeco.pytorch.Tensor";
      case IntType -> ": pass a Long";
      case FloatType -> ": pass a Double";
      case BoolType -> ": pass a Boolean";
      case StringType -> ": pass a String";
      case TupleType -> ": pass a PyTuple (or a List) of its items";
      case ListType -> ": pass a List";
      case DictType -> ": pass a Map";
      default -> "";
    };
  }


  @Override
  protected void releaseResources() {
    for (CompilationUnit helper : dictHelpers.values()) helper.close();
    dictHelpers.clear();
  }
}
