package io.ckpt4j.save;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.pickle.PickleWriter;
import io.ckpt4j.value.DType;
import io.ckpt4j.value.PyGlobalRef;
import io.ckpt4j.value.PyObject;
import io.ckpt4j.value.PyOrderedDict;
import io.ckpt4j.value.PyTuple;
import io.ckpt4j.value.StorageRef;
import io.ckpt4j.value.TensorRef;
import io.ckpt4j.value.TorchValues;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * Writes what the pickle value model does not know, opcode for opcode as {@code torch.save}'s
 * pickler: tensors through {@code torch._utils._rebuild_tensor_v2} over a typed storage (or
 * {@code _rebuild_tensor_v3} over an {@code UntypedStorage} plus the dtype, for uint16/32/64 and
 * float8), Parameters through {@code _rebuild_parameter} ({@code _rebuild_parameter_with_state}
 * when Python attributes came with them), plain tensors with attributes through {@code
 * torch._tensor._rebuild_from_type_v2}, storages as persistent ids {@code ('storage', class, key,
 * location, numel)}, and {@code torch.device}, dtypes, {@code complex} and inert objects.
 *
 * <p>Tensors are memoized as Python memoizes tensor objects: one Java {@link Tensor} (or any other
 * Java handle of the same LibTorch {@code TensorImpl}), {@link Parameter} or {@link TensorRef}
 * under several keys comes back as one Python object.
 */
final class TensorPickler implements PickleWriter.Custom {
  /** The persistent id's tag; one String object, so later uses are BINGETs as in Python. */
  private static final String STORAGE_TAG = "storage";
  private static final String CONJ = "conj";
  private static final String NEG = "neg";
  private static final PyGlobalRef REBUILD_V2 = new PyGlobalRef("torch._utils", "_rebuild_tensor_v2");
  private static final PyGlobalRef REBUILD_V3 = new PyGlobalRef("torch._utils", "_rebuild_tensor_v3");
  private static final PyGlobalRef TENSOR_CLASS = new PyGlobalRef("torch", "Tensor");

  /** The storage's persistent id, written with BINPERSID where it stands in a tuple. */
  private record StoragePid(SavedStorages.Entry storage) {}

  /** The plain tensor inside a Parameter ({@code parameter.data}): its own object, memoized once. */
  private record ParameterData(TensorLeaf leaf, SavedStorages.Entry storage) {}

  private final SavedStorages storages;
  private final LoadedCheckpoint source;
  private final TreePaths paths;
  /** The first Java handle seen for each LibTorch TensorImpl: the memo key for all of them. */
  private final Map<Long, Tensor> handles = new HashMap<>();

  TensorPickler(SavedStorages storages, LoadedCheckpoint source, TreePaths paths) {
    this.storages = storages;
    this.source = source;
    this.paths = paths;
  }

  @Override
  public boolean save(Object value, PickleWriter.Emitter out) throws CheckpointException {
    if (value instanceof Tensor t) {
      Tensor key = handles.computeIfAbsent(t.unsafeGetTensorImpl().address(), a -> t);
      if (key != t && out.reuse(key)) return true;
      saveLeaf(TensorLeaf.of(t, paths.of(value)), key, out);
    } else if (value instanceof Parameter p) {
      saveLeaf(TensorLeaf.of(p, paths.of(value)), p, out);
    } else if (value instanceof TensorRef ref) {
      saveLeaf(TensorLeaf.of(ref, source.tensor(ref), paths.of(value)), ref, out);
    } else if (value instanceof StorageRef storage) {
      saveBareStorage(storage, out);
    } else if (value instanceof StoragePid pid) {
      out.persistentId(pidTuple(pid.storage()));
    } else if (value instanceof ParameterData data) {
      saveRebuild(data.leaf(), data.storage(), false, out);
      out.memoize(data);
    } else {
      return saveTorchValue(value, out);
    }
    return true;
  }

  private void saveLeaf(TensorLeaf leaf, Object key, PickleWriter.Emitter out)
      throws CheckpointException {
    SavedStorages.Entry storage = storages.add(leaf, paths.of(key));
    Object state = leaf.pythonState();
    if (leaf.parameter()) {
      // Parameter.__reduce_ex__: (_rebuild_parameter[_with_state], (data, requires_grad,
      // OrderedDict()[, state]))
      out.global("torch._utils",
          state == null ? "_rebuild_parameter" : "_rebuild_parameter_with_state");
      ParameterData data = new ParameterData(leaf, storage);
      out.save(state == null
          ? PyTuple.of(data, leaf.requiresGrad(), new PyOrderedDict())
          : PyTuple.of(data, leaf.requiresGrad(), new PyOrderedDict(), state));
      out.reduce();
    } else if (state != null) {
      // Tensor.__reduce_ex__ with attributes: (_rebuild_from_type_v2, (rebuild, torch.Tensor,
      // rebuild's args, state))
      out.global("torch._tensor", "_rebuild_from_type_v2");
      out.save(PyTuple.of(rebuildFunction(leaf), TENSOR_CLASS,
          rebuildArgs(leaf, storage, leaf.requiresGrad()), state));
      out.reduce();
    } else {
      saveRebuild(leaf, storage, leaf.requiresGrad(), out);
    }
    out.memoize(key);
  }

  /** {@code _rebuild_tensor_v2(...)} or {@code _rebuild_tensor_v3(...)}, called. */
  private void saveRebuild(TensorLeaf leaf, SavedStorages.Entry storage, boolean requiresGrad,
      PickleWriter.Emitter out) throws CheckpointException {
    PyGlobalRef fn = rebuildFunction(leaf);
    out.global(fn.module(), fn.name());
    out.save(rebuildArgs(leaf, storage, requiresGrad));
    out.reduce();
  }

  private static PyGlobalRef rebuildFunction(TensorLeaf leaf) {
    return leaf.dtype().storageClass() == null ? REBUILD_V3 : REBUILD_V2;
  }

  /**
   * {@code (storage, storage_offset, size, stride, requires_grad, backward_hooks[, dtype]
   * [, metadata])}: v3 carries the dtype; metadata ({@code {'conj': True}}, {@code {'neg':
   * True}}) only when a lazy bit is set, as torch writes it.
   */
  private static PyTuple rebuildArgs(TensorLeaf leaf, SavedStorages.Entry storage,
      boolean requiresGrad) {
    List<Object> args = new ArrayList<>();
    args.add(new StoragePid(storage));
    args.add(leaf.storageOffset());
    args.add(longs(leaf.shape()));
    args.add(longs(leaf.stride()));
    args.add(requiresGrad);
    args.add(new PyOrderedDict()); // backward_hooks: torch saves an empty OrderedDict
    if (leaf.dtype().storageClass() == null) {
      args.add(new PyGlobalRef("torch", leaf.dtype().pythonName()));
    }
    if (leaf.conj() || leaf.neg()) {
      Map<Object, Object> metadata = new LinkedHashMap<>();
      if (leaf.conj()) metadata.put(CONJ, true);
      if (leaf.neg()) metadata.put(NEG, true);
      args.add(metadata);
    }
    return PyTuple.of(args.toArray());
  }

  private static PyTuple pidTuple(SavedStorages.Entry s) {
    return PyTuple.of(STORAGE_TAG, s.storageType(), s.key(), s.location(), s.numel());
  }

  /** A bare storage (legacy files hold them): its persistent id alone, as torch writes it. */
  private void saveBareStorage(StorageRef storage, PickleWriter.Emitter out)
      throws CheckpointException {
    String path = paths.of(storage);
    TensorRef whole = source.wholeStorage(storage);
    SavedStorages.Entry entry =
        storages.addBare(source.tensor(whole), storage.dtype(), storage.location(), path);
    out.persistentId(pidTuple(entry));
  }

  /** torch.device, dtypes, complex, storage classes, torch.Tensor, inert objects. */
  private static boolean saveTorchValue(Object value, PickleWriter.Emitter out)
      throws CheckpointException {
    if (value instanceof TorchValues.TorchDevice d) {
      out.global("torch", "device");
      out.save(d.index() == null ? PyTuple.of(d.type()) : PyTuple.of(d.type(), (long) d.index()));
      out.reduce();
      out.memoize(d);
    } else if (value instanceof DType d) {
      out.global("torch", d.pythonName());
    } else if (value instanceof TorchValues.UnsupportedDType d) {
      out.global("torch", d.name());
    } else if (value instanceof TorchValues.PyComplex c) {
      out.global("__builtin__", "complex");
      out.save(PyTuple.of(c.real(), c.imag()));
      out.reduce();
      out.memoize(c);
    } else if (value instanceof TorchValues.StorageType s) {
      boolean storageModule = s.name().equals("UntypedStorage") || s.name().equals("TypedStorage");
      out.global(storageModule ? "torch.storage" : "torch", s.name());
    } else if (value instanceof TorchValues.TensorClass) {
      out.global(TENSOR_CLASS.module(), TENSOR_CLASS.name());
    } else if (value instanceof PyObject o) {
      saveInertObject(o, out);
    } else {
      return false;
    }
    return true;
  }

  /**
   * An inert object as Python's pickler writes an instance of a plain class at protocol 2:
   * {@code cls.__new__(cls, *args)} (NEWOBJ), memoized, then BUILD with its state. Loading it
   * needs the class allowed ({@code torch.serialization.add_safe_globals}), as the original did.
   */
  private static void saveInertObject(PyObject o, PickleWriter.Emitter out)
      throws CheckpointException {
    String name = o.className();
    int dot = name.lastIndexOf('.');
    out.global(dot < 0 ? "builtins" : name.substring(0, dot), name.substring(dot + 1));
    out.save(o.args());
    out.newObject();
    out.memoize(o);
    if (o.state() != null) {
      out.save(o.state());
      out.build();
    }
  }

  private static PyTuple longs(long[] values) {
    Object[] items = new Object[values.length];
    for (int i = 0; i < values.length; i++) items[i] = values[i];
    return PyTuple.of(items);
  }
}
