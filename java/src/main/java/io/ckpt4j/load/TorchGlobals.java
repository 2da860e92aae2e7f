package io.ckpt4j.load;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.pickle.GlobalResolver;
import io.ckpt4j.pickle.UnsupportedGlobalException;
import io.ckpt4j.value.DType;
import io.ckpt4j.value.PyCallable;
import io.ckpt4j.value.PyTuple;
import io.ckpt4j.value.PythonTypes;
import io.ckpt4j.value.StorageRef;
import io.ckpt4j.value.TensorRef;
import io.ckpt4j.value.TorchValues.PyComplex;
import io.ckpt4j.value.TorchValues.StorageType;
import io.ckpt4j.value.TorchValues.TensorClass;
import io.ckpt4j.value.TorchValues.TorchDevice;
import io.ckpt4j.value.TorchValues.UnsupportedDType;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The globals {@code torch.load(weights_only=True)} accepts, as Java values: tensor rebuild
 * functions, storage classes, dtypes, {@code OrderedDict}, {@code torch.Size}, {@code
 * torch.device} and the few builtins torch pickles use. Nothing here runs Python code: each
 * "function" is a Java method that checks its arguments and builds a {@link TensorRef} or a plain
 * value.
 *
 * <p>Globals that torch's weights-only set has but ckpt4j does not handle (sparse, quantized and
 * nested tensors, tensor subclasses) are refused with a message that says so.
 */
public final class TorchGlobals {
  private static final Map<String, Object> VALUES = new HashMap<>();
  /** {@code torch.nn.parameter.Parameter}: callable, and the marker {@code _rebuild_from_type_v2} gets. */
  private static final PyCallable PARAMETER_CLASS = TorchGlobals::parameter;
  private static final Set<String> WEIGHTS_ONLY_UNHANDLED = Set.of(
      "torch._utils._rebuild_sparse_tensor", "torch._utils._rebuild_qtensor",
      "torch._utils._rebuild_nested_tensor", "torch._utils._rebuild_wrapper_subclass",
      "torch._utils._rebuild_meta_tensor_no_storage", "torch._utils._rebuild_device_tensor_from_numpy",
      "torch._utils._rebuild_device_tensor_from_cpu_tensor", "torch.serialization._get_layout");
  private static final List<String> UNSUPPORTED_DTYPES = List.of(
      "complex32", "qint8", "quint8", "qint32", "quint4x2", "quint2x4", "bits1x8", "bits2x4",
      "bits4x2", "bits8", "bits16", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu",
      "float4_e2m1fn_x2", "uint1", "uint2", "uint3", "uint4", "uint5", "uint6", "uint7", "int1",
      "int2", "int3", "int4", "int5", "int6", "int7");
  private static final List<String> QUANTIZED_STORAGES = List.of(
      "QInt32Storage", "QInt8Storage", "QUInt2x4Storage", "QUInt4x2Storage", "QUInt8Storage");

  static {
    for (DType t : DType.values()) {
      VALUES.put("torch." + t.pythonName(), t);
      if (t.storageClass() != null) {
        StorageType st = new StorageType(t.storageClass(), t);
        VALUES.put("torch." + t.storageClass(), st);
        VALUES.put("torch.cuda." + t.storageClass(), st);
      }
    }
    for (String name : UNSUPPORTED_DTYPES) VALUES.put("torch." + name, new UnsupportedDType(name));
    for (String name : QUANTIZED_STORAGES) {
      VALUES.put("torch." + name, new StorageType(name, null));
    }
    VALUES.put("torch.storage.UntypedStorage", new StorageType("UntypedStorage", null));
    VALUES.put("torch.storage.TypedStorage", new StorageType("TypedStorage", null));
    VALUES.put("torch.Tensor", TensorClass.TENSOR);
    VALUES.put("torch.nn.parameter.Parameter", PARAMETER_CLASS);
    VALUES.put("collections.Counter", (PyCallable) TorchGlobals::counter);
    VALUES.put("torch.Size", (PyCallable) TorchGlobals::size);
    VALUES.put("torch.device", (PyCallable) TorchGlobals::device);
    VALUES.put("builtins.complex", (PyCallable) TorchGlobals::complex);
    VALUES.put("torch._utils._rebuild_tensor", (PyCallable) args -> rebuildTensor(args, 1));
    VALUES.put("torch._utils._rebuild_tensor_v2", (PyCallable) args -> rebuildTensor(args, 2));
    VALUES.put("torch._utils._rebuild_tensor_v3", (PyCallable) args -> rebuildTensor(args, 3));
    VALUES.put("torch._utils._rebuild_parameter", (PyCallable) TorchGlobals::rebuildParameter);
    VALUES.put("torch._utils._rebuild_parameter_with_state",
        (PyCallable) TorchGlobals::rebuildParameter);
    VALUES.put("torch._tensor._rebuild_from_type_v2", (PyCallable) TorchGlobals::rebuildFromType);
  }

  private TorchGlobals() {}



  /**
   * torch's safe globals as a resolver: the value for {@code module.name}, or an
   * {@link UnsupportedGlobalException} (so a chain can go on) when it is not one of them.
   * Python's own harmless builtins ({@code OrderedDict}, {@code set}, {@code _codecs.encode}) come
   * from {@link GlobalResolver#pythonBuiltins()}.
   */
  public static GlobalResolver resolver() {
    return TorchGlobals::lookup;
  }

  private static Object lookup(String module, String name) throws CheckpointException {
    String qualified = module + "." + name;
    if (WEIGHTS_ONLY_UNHANDLED.contains(qualified)) {
      throw new CheckpointException(Kind.UNSUPPORTED_FORMAT,
          "the checkpoint uses " + qualified + " (sparse, quantized,"
          + " nested or subclassed tensors), which ckpt4j does not load yet");
    }
    Object value = VALUES.get(qualified);
    if (value == null) throw new UnsupportedGlobalException(module, name);
    return value;
  }

  /** Every global name handled here, e.g. for help texts. */
  public static Collection<String> names() {
    return VALUES.keySet();
  }

  // torch._utils._rebuild_tensor(storage, storage_offset, size, stride)                    v1
  // torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad,
  //                                 backward_hooks[, metadata])                             v2
  // torch._utils._rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad,
  //                                 backward_hooks, dtype[, metadata])                      v3
  private static Object rebuildTensor(PyTuple args, int version) throws CheckpointException {
    String fn = version == 1 ? "_rebuild_tensor" : "_rebuild_tensor_v" + version;
    int min = version == 1 ? 4 : version == 2 ? 6 : 7;
    int max = version == 1 ? 4 : min + 1;
    Args.count(fn, args, min, max);
    StorageRef storage = Args.of(fn, args, 0, StorageRef.class);
    long offset = Args.toLong(fn, args, 1);
    long[] size = Args.longs(fn, args, 2);
    long[] stride = Args.longs(fn, args, 3);
    boolean requiresGrad = version != 1 && Args.toBool(fn, args, 4);
    DType dtype;
    if (version == 3) {
      Object d = args.get(6);
      if (d instanceof UnsupportedDType u) {
        throw new CheckpointException(Kind.UNSUPPORTED_FORMAT,
            "tensor of dtype torch." + u.name() + " is not supported");
      }
      dtype = Args.of(fn, args, 6, DType.class);
    } else if (storage.dtype() != null) {
      dtype = storage.dtype();
    } else {
      throw new CheckpointException(Kind.UNSUPPORTED_FORMAT, fn + " over storage " + storage.key()
          + " which has no element type (quantized or untyped storage)");
    }
    TensorRef tensor = TensorRef.create(storage, dtype, offset, size, stride, requiresGrad,
        "storage " + storage.key());
    int metadataIndex = version == 3 ? 7 : 6;
    if (args.size() > metadataIndex) applyMetadata(fn, args.get(metadataIndex), tensor);
    return tensor;
  }

  // torch._utils._set_tensor_metadata: {'conj': bool, 'neg': bool}, the lazy bits of a tensor.
  private static void applyMetadata(String fn, Object metadata, TensorRef tensor)
      throws CheckpointException {
    if (metadata == null) return;
    if (!(metadata instanceof Map<?, ?> map)) {
      throw new CheckpointException(Kind.MALFORMED_PICKLE,
          fn + " metadata must be a dict, the file gives "
          + PythonTypes.name(metadata));
    }
    for (Map.Entry<?, ?> e : map.entrySet()) {
      if (!(e.getValue() instanceof Boolean on)) {
        throw new CheckpointException(Kind.MALFORMED_PICKLE,
            fn + " metadata " + e.getKey() + " must be a bool");
      }
      if ("conj".equals(e.getKey())) {
        tensor.setConj(on);
      } else if ("neg".equals(e.getKey())) {
        tensor.setNeg(on);
      } else {
        throw new CheckpointException(Kind.UNSUPPORTED_FORMAT, fn + " metadata names '" + e.getKey()
            + "', which ckpt4j does not know (torch writes conj and neg)");
      }
    }
  }

  // torch._utils._rebuild_parameter(data, requires_grad, backward_hooks)
  // torch._utils._rebuild_parameter_with_state(data, requires_grad, backward_hooks, state)
  private static Object rebuildParameter(PyTuple args) throws CheckpointException {
    Args.count("_rebuild_parameter", args, 3, 4);
    TensorRef data = Args.of("_rebuild_parameter", args, 0, TensorRef.class);
    data.markParameter(Args.toBool("_rebuild_parameter", args, 1));
    if (args.size() == 4 && args.get(3) != null) data.setPythonState(args.get(3));
    return data;
  }

  // torch.nn.parameter.Parameter(data=None, requires_grad=True)
  private static Object parameter(PyTuple args) throws CheckpointException {
    Args.count("Parameter", args, 1, 2);
    TensorRef data = Args.of("Parameter", args, 0, TensorRef.class);
    data.markParameter(args.size() < 2 || Args.toBool("Parameter", args, 1));
    return data;
  }

  // torch._tensor._rebuild_from_type_v2(func, new_type, args, state)
  private static Object rebuildFromType(PyTuple args) throws CheckpointException {
    String fn = "_rebuild_from_type_v2";
    Args.count(fn, args, 4, 4);
    PyCallable func = Args.of(fn, args, 0, PyCallable.class);
    Object result = func.call(Args.of(fn, args, 2, PyTuple.class));
    if (!(result instanceof TensorRef tensor)) return result;
    Object type = args.get(1);
    if (type == PARAMETER_CLASS) {
      tensor.markParameter(tensor.requiresGrad());
    } else if (type != TensorClass.TENSOR) {
      throw new CheckpointException(Kind.UNSUPPORTED_FORMAT,
          fn + " builds a tensor subclass ckpt4j cannot represent");
    }
    Object state = args.get(3);
    if (state instanceof Map<?, ?> m && !m.isEmpty() || state instanceof PyTuple) {
      tensor.setPythonState(state);
    }
    return tensor;
  }

  private static Object counter(PyTuple args) throws CheckpointException {
    Map<Object, Object> dict = new LinkedHashMap<>();
    if (args.size() == 1 && args.get(0) instanceof Map<?, ?> m) dict.putAll(m);
    else if (!args.isEmpty()) Args.count("Counter", args, 0, 0);
    return dict;
  }

  // torch.Size(tuple_of_ints): a tuple subclass; kept as a tuple.
  private static Object size(PyTuple args) throws CheckpointException {
    Args.count("torch.Size", args, 0, 1);
    if (args.isEmpty()) return PyTuple.EMPTY;
    long[] dims = Args.longs("torch.Size", args, 0);
    Object[] items = new Object[dims.length];
    for (int i = 0; i < dims.length; i++) items[i] = dims[i];
    return PyTuple.of(items);
  }

  // torch.device("cuda:1") / torch.device("cuda", 1)
  private static Object device(PyTuple args) throws CheckpointException {
    Args.count("torch.device", args, 1, 2);
    String spec = Args.of("torch.device", args, 0, String.class);
    if (args.size() == 2 && args.get(1) != null) {
      return new TorchDevice(spec, (int) Args.toLong("torch.device", args, 1));
    }
    int colon = spec.indexOf(':');
    if (colon < 0) return new TorchDevice(spec, null);
    try {
      return new TorchDevice(spec.substring(0, colon), Integer.parseInt(spec.substring(colon + 1)));
    } catch (NumberFormatException e) {
      throw new CheckpointException(Kind.MALFORMED_PICKLE,
          "torch.device('" + spec + "') has no valid index");
    }
  }

  private static Object complex(PyTuple args) throws CheckpointException {
    Args.count("complex", args, 1, 2);
    return new PyComplex(Args.toDouble("complex", args, 0),
        args.size() == 2 ? Args.toDouble("complex", args, 1) : 0.0);
  }

  /** Argument checks for the functions above: each failure is a one-line CheckpointException. */
  static final class Args {
    private Args() {}

    static void count(String fn, PyTuple args, int min, int max) throws CheckpointException {
      if (args.size() < min || args.size() > max) {
        throw new CheckpointException(Kind.MALFORMED_PICKLE,
            fn + " takes " + (min == max ? "" + min : min + " to " + max)
            + " arguments, the file gives " + args.size());
      }
    }

    static <T> T of(String fn, PyTuple args, int i, Class<T> type) throws CheckpointException {
      Object v = args.get(i);
      if (!type.isInstance(v)) {
        throw new CheckpointException(Kind.MALFORMED_PICKLE,
            fn + " argument " + i + " must be " + type.getSimpleName()
            + ", the file gives " + PythonTypes.name(v));
      }
      return type.cast(v);
    }

    static long toLong(String fn, PyTuple args, int i) throws CheckpointException {
      Object v = args.get(i);
      if (v instanceof Long l) return l;
      if (v instanceof Boolean b) return b ? 1 : 0;
      if (v instanceof BigInteger) {
        throw new CheckpointException(Kind.MALFORMED_PICKLE,
            fn + " argument " + i + " is an int beyond 64 bits");
      }
      throw new CheckpointException(Kind.MALFORMED_PICKLE,
          fn + " argument " + i + " must be int, the file gives "
          + PythonTypes.name(v));
    }

    static double toDouble(String fn, PyTuple args, int i) throws CheckpointException {
      Object v = args.get(i);
      if (v instanceof Double d) return d;
      if (v instanceof Long l) return l;
      throw new CheckpointException(Kind.MALFORMED_PICKLE,
          fn + " argument " + i + " must be float, the file gives "
          + PythonTypes.name(v));
    }

    static boolean toBool(String fn, PyTuple args, int i) throws CheckpointException {
      Object v = args.get(i);
      if (v instanceof Boolean b) return b;
      if (v instanceof Long l) return l != 0;
      throw new CheckpointException(Kind.MALFORMED_PICKLE,
          fn + " argument " + i + " must be bool, the file gives "
          + PythonTypes.name(v));
    }

    static long[] longs(String fn, PyTuple args, int i) throws CheckpointException {
      Object v = args.get(i);
      if (!(v instanceof List<?> list)) {
        throw new CheckpointException(Kind.MALFORMED_PICKLE,
            fn + " argument " + i + " must be a tuple of ints, the file"
            + " gives " + PythonTypes.name(v));
      }
      if (list.size() > TensorRef.MAX_DIMS) {
        throw new CheckpointException(Kind.INVALID_TENSOR,
            fn + " argument " + i + " has " + list.size()
            + " dimensions, more than " + TensorRef.MAX_DIMS);
      }
      long[] out = new long[list.size()];
      List<Object> items = new ArrayList<>(list);
      for (int k = 0; k < out.length; k++) {
        if (!(items.get(k) instanceof Long l)) {
          throw new CheckpointException(Kind.MALFORMED_PICKLE, fn + " argument " + i + " item " + k
              + " must be int, the file gives " + PythonTypes.name(items.get(k)));
        }
        out[k] = l;
      }
      return out;
    }
  }
}
