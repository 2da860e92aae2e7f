package io.ckpt4j.save;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.layout.dcp.DcpLayout;
import io.ckpt4j.layout.dcp.DcpMetadata;
import io.ckpt4j.pickle.PickleWriter;
import io.ckpt4j.tensor.MapLocation;
import io.ckpt4j.value.DType;
import io.ckpt4j.value.PyGlobalRef;
import io.ckpt4j.value.PyObject;
import io.ckpt4j.value.PyTuple;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The {@code .metadata} pickle of a DCP directory, as Python's {@code pickle.dump(metadata)}
 * would write the dataclasses: each {@code cls.__new__(cls)} then BUILD with its fields (a
 * tuple for {@code TensorProperties}, whose {@code __setstate__} takes one), {@code torch.Size}s
 * for sizes and offsets, and {@code torch.strided} as the layout. Python's {@code dcp.load} and
 * ckpt4j's reader both read it.
 */
final class DcpMetadataPickle {
  private static final String METADATA = "torch.distributed.checkpoint.metadata.";
  private static final String FILESYSTEM = "torch.distributed.checkpoint.filesystem.";
  private static final PyGlobalRef STRIDED = new PyGlobalRef("torch", "strided");
  /** {@code _MEM_FORMAT_ENCODING.TORCH_CONTIGUOUS_FORMAT}. */
  private static final long CONTIGUOUS_FORMAT = 0;

  private DcpMetadataPickle() {}

  static byte[] toBytes(DcpMetadata metadata) throws CheckpointException {
    Map<Object, Object> entries = new LinkedHashMap<>();
    for (Map.Entry<String, DcpMetadata.Entry> e : metadata.entries().entrySet()) {
      entries.put(e.getKey(), entry(e.getValue()));
    }
    Map<Object, Object> planner = new LinkedHashMap<>();
    for (Map.Entry<String, List<Object>> e : metadata.paths().entrySet()) {
      planner.put(e.getKey(), PyTuple.of(e.getValue().toArray()));
    }
    Map<Object, Object> storage = new LinkedHashMap<>();
    for (Map.Entry<DcpMetadata.Index, DcpMetadata.StorageInfo> e
        : metadata.storage().entrySet()) {
      storage.put(index(e.getKey()), storageInfo(e.getValue()));
    }
    Map<String, Object> storageMeta = new LinkedHashMap<>();
    storageMeta.put("checkpoint_id", null);
    storageMeta.put("save_id", UUID.randomUUID().toString());
    storageMeta.put("load_id", null);
    storageMeta.put("modules", new java.util.ArrayList<>());
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("state_dict_metadata", entries);
    fields.put("planner_data", planner);
    fields.put("storage_data", storage);
    fields.put("storage_meta", object(METADATA + "StorageMeta", storageMeta));
    fields.put("version", DcpLayout.VERSION);
    PyObject root = object(METADATA + "Metadata", fields);
    // TensorPickler writes the inert objects and dtypes; the tree holds no tensor.
    return PickleWriter.toBytes(root, new TensorPickler(new SavedStorages(MapLocation.none()),
        null, TreePaths.walk(root, false)));
  }

  private static PyObject entry(DcpMetadata.Entry entry) {
    if (!(entry instanceof DcpMetadata.TensorEntry t)) {
      return object(METADATA + "BytesStorageMetadata", null);
    }
    PyObject properties = object(METADATA + "TensorProperties", PyTuple.of(
        DType.fromPythonName(t.dtype()).orElseThrow(), STRIDED, t.requiresGrad(),
        new PyObject(METADATA + "_MEM_FORMAT_ENCODING", PyTuple.of(CONTIGUOUS_FORMAT), Map.of()),
        false));
    List<Object> chunks = new java.util.ArrayList<>();
    for (DcpMetadata.Chunk c : t.chunks()) {
      Map<String, Object> chunk = new LinkedHashMap<>();
      chunk.put("offsets", size(c.offsets()));
      chunk.put("sizes", size(c.sizes()));
      chunks.add(object(METADATA + "ChunkStorageMetadata", chunk));
    }
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("properties", properties);
    fields.put("size", size(t.size()));
    fields.put("chunks", chunks);
    return object(METADATA + "TensorStorageMetadata", fields);
  }

  private static PyObject index(DcpMetadata.Index index) {
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("fqn", index.fqn());
    fields.put("offset", index.offset() == null ? null
        : size(index.offset().stream().mapToLong(Long::longValue).toArray()));
    fields.put("index", null);
    return object(METADATA + "MetadataIndex", fields);
  }

  private static PyObject storageInfo(DcpMetadata.StorageInfo info) {
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("relative_path", info.relativePath());
    fields.put("offset", info.offset());
    fields.put("length", info.length());
    return object(FILESYSTEM + "_StorageInfo", fields);
  }

  /** {@code torch.Size(values)}: {@code tuple.__new__(torch.Size, values)}. */
  private static PyObject size(long[] values) {
    Object[] items = new Object[values.length];
    for (int i = 0; i < values.length; i++) items[i] = values[i];
    return new PyObject("torch.Size", PyTuple.of(PyTuple.of(items)), Map.of());
  }

  /** A dataclass instance: {@code cls.__new__(cls)}, then BUILD with {@code state}. */
  private static PyObject object(String className, Object state) {
    PyObject o = new PyObject(className, PyTuple.EMPTY, Map.of());
    if (state != null) o.setState(state);
    return o;
  }
}
