package io.ckpt4j.load;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.layout.dcp.DcpMetadata;
import io.ckpt4j.value.DType;
import io.ckpt4j.value.PyObject;
import io.ckpt4j.value.PythonTypes;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns the unpickled {@code Metadata} (inert objects, see {@link DcpGlobals}) into
 * {@link DcpMetadata}, checking every field's type and range: what is not the dataclass DCP
 * writes is a one-line error naming the field.
 */
final class DcpMetadataReader {
  /** The only tensor layout DCP's FileSystemReader restores (sparse ones are not saved by it). */
  private static final String STRIDED = "torch.strided";
  /** TensorProperties' pickled state: (dtype, layout, requires_grad, memory_format, pin_memory). */
  private static final int PROPERTIES_FIELDS = 5;

  private final String where;

  private DcpMetadataReader(String where) {
    this.where = where;
  }

  static DcpMetadata read(Object root, String where) throws CheckpointException {
    return new DcpMetadataReader(where).metadata(root);
  }

  private DcpMetadata metadata(Object root) throws CheckpointException {
    Map<?, ?> fields = state(root, "Metadata", "the pickle");
    Map<String, DcpMetadata.Entry> entries = new LinkedHashMap<>();
    for (Map.Entry<?, ?> e : map(require(fields, "state_dict_metadata"), "state_dict_metadata")
        .entrySet()) {
      String fqn = text(e.getKey(), "a state_dict_metadata key");
      entries.put(fqn, entry(fqn, e.getValue()));
    }
    Map<String, List<Object>> paths = new LinkedHashMap<>();
    Object planner = fields.get("planner_data");
    if (planner != null) {
      for (Map.Entry<?, ?> e : map(planner, "planner_data").entrySet()) {
        String fqn = text(e.getKey(), "a planner_data key");
        List<Object> path = new ArrayList<>();
        for (Object step : list(e.getValue(), "planner_data['" + fqn + "']")) {
          if (!(step instanceof String) && !(step instanceof Long)) {
            throw malformed("planner_data['" + fqn + "'] has the step " + PythonTypes.name(step)
                + ", not a str or int");
          }
          path.add(step);
        }
        paths.put(fqn, path);
      }
    }
    Map<DcpMetadata.Index, DcpMetadata.StorageInfo> storage = new LinkedHashMap<>();
    for (Map.Entry<?, ?> e : map(require(fields, "storage_data"), "storage_data").entrySet()) {
      DcpMetadata.Index index = index(e.getKey());
      storage.put(index, storageInfo(index.fqn(), e.getValue()));
    }
    Object version = fields.get("version");
    return new DcpMetadata(entries, paths, storage,
        version == null ? null : text(version, "version"));
  }

  private DcpMetadata.Entry entry(String fqn, Object value) throws CheckpointException {
    if (value instanceof PyObject o && o.className().endsWith(".BytesStorageMetadata")) {
      return new DcpMetadata.BytesEntry();
    }
    String what = "state_dict_metadata['" + fqn + "']";
    Map<?, ?> fields = state(value, "TensorStorageMetadata", what);
    Object properties = stateOf(require(fields, "properties"), "TensorProperties", what);
    Object dtype;
    Object layout;
    Object requiresGrad;
    if (properties instanceof List<?> t && t.size() == PROPERTIES_FIELDS) {
      dtype = t.get(0);
      layout = t.get(1);
      requiresGrad = t.get(2);
    } else if (properties instanceof Map<?, ?> m) {
      dtype = require(m, "dtype");
      layout = m.get("layout");
      requiresGrad = m.get("requires_grad");
    } else {
      throw malformed(what + ".properties is not TensorProperties' state");
    }
    if (!(dtype instanceof DType d)) {
      throw malformed(what + " has the dtype " + PythonTypes.name(dtype) + ", not a torch dtype");
    }
    if (layout != null && !STRIDED.equals(layout)) {
      throw new CheckpointException(Kind.UNSUPPORTED_FORMAT, "tensor '" + fqn + "' of " + where
          + " has layout " + layout + ": only strided (dense) tensors are read");
    }
    long[] size = longs(require(fields, "size"), what + ".size");
    List<DcpMetadata.Chunk> chunks = new ArrayList<>();
    for (Object c : list(require(fields, "chunks"), what + ".chunks")) {
      Map<?, ?> chunk = state(c, "ChunkStorageMetadata", what + ".chunks");
      chunks.add(new DcpMetadata.Chunk(longs(require(chunk, "offsets"), what + " chunk offsets"),
          longs(require(chunk, "sizes"), what + " chunk sizes")));
    }
    return new DcpMetadata.TensorEntry(d.pythonName(), Boolean.TRUE.equals(requiresGrad), size,
        chunks);
  }

  private DcpMetadata.Index index(Object key) throws CheckpointException {
    Map<?, ?> fields = state(key, "MetadataIndex", "a storage_data key");
    String fqn = text(require(fields, "fqn"), "MetadataIndex.fqn");
    Object offset = fields.get("offset");
    if (offset == null) return DcpMetadata.Index.ofBytes(fqn);
    return DcpMetadata.Index.ofChunk(fqn, longs(offset, "MetadataIndex.offset of '" + fqn + "'"));
  }

  private DcpMetadata.StorageInfo storageInfo(String fqn, Object value)
      throws CheckpointException {
    String what = "storage_data['" + fqn + "']";
    Map<?, ?> fields = state(value, "_StorageInfo", what);
    Object transforms = fields.get("transform_descriptors");
    if (transforms instanceof List<?> l && !l.isEmpty()) {
      throw new CheckpointException(Kind.UNSUPPORTED_FORMAT, "'" + fqn + "' of " + where
          + " is stored through the storage extensions " + l + " (compression),"
          + " which ckpt4j does not read; save the checkpoint without extensions");
    }
    long offset = count(require(fields, "offset"), what + ".offset");
    long length = count(require(fields, "length"), what + ".length");
    return new DcpMetadata.StorageInfo(text(require(fields, "relative_path"),
        what + ".relative_path"), offset, length);
  }

  /** The field dict of an inert dataclass object {@code name} (its BUILD state). */
  private Map<?, ?> state(Object value, String name, String what) throws CheckpointException {
    Object s = stateOf(value, name, what);
    if (s instanceof Map<?, ?> m) return m;
    throw malformed(what + " (" + name + ") has no field dict");
  }

  private Object stateOf(Object value, String name, String what) throws CheckpointException {
    if (!(value instanceof PyObject o) || !o.className().endsWith("." + name)) {
      throw malformed(what + " is a " + PythonTypes.name(value) + ", not " + name);
    }
    return o.state();
  }

  private Object require(Map<?, ?> fields, String name) throws CheckpointException {
    if (!fields.containsKey(name)) throw malformed("a field '" + name + "' is missing");
    return fields.get(name);
  }

  private Map<?, ?> map(Object value, String what) throws CheckpointException {
    if (value instanceof Map<?, ?> m) return m;
    throw malformed(what + " is a " + PythonTypes.name(value) + ", not a dict");
  }

  private List<?> list(Object value, String what) throws CheckpointException {
    if (value instanceof List<?> l) return l;
    throw malformed(what + " is a " + PythonTypes.name(value) + ", not a list or tuple");
  }

  private String text(Object value, String what) throws CheckpointException {
    if (value instanceof String s) return s;
    throw malformed(what + " is a " + PythonTypes.name(value) + ", not a str");
  }

  private long[] longs(Object value, String what) throws CheckpointException {
    List<?> items = list(value, what);
    long[] out = new long[items.size()];
    for (int i = 0; i < out.length; i++) out[i] = count(items.get(i), what);
    return out;
  }

  private long count(Object value, String what) throws CheckpointException {
    if (value instanceof Long l && l >= 0) return l;
    if (value instanceof Long || value instanceof BigInteger) {
      throw malformed(what + " is " + value + ", not a size in 0.." + Long.MAX_VALUE);
    }
    throw malformed(what + " is a " + PythonTypes.name(value) + ", not an int");
  }

  private CheckpointException malformed(String detail) {
    return new CheckpointException(Kind.MALFORMED_CONTAINER, where + ": " + detail
        + ": not the Metadata torch.distributed.checkpoint writes; save the checkpoint again");
  }
}
