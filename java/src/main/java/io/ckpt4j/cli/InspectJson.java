package io.ckpt4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ckpt4j.CheckpointException;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.tensor.TensorBytes;
import io.ckpt4j.value.DType;
import io.ckpt4j.value.PyBytes;
import io.ckpt4j.value.PyObject;
import io.ckpt4j.value.PythonTypes;
import io.ckpt4j.value.StorageRef;
import io.ckpt4j.value.TensorRef;
import io.ckpt4j.value.TorchValues.PyComplex;
import io.ckpt4j.value.TorchValues.TorchDevice;
import io.ckpt4j.value.TreeWalker;
import java.math.BigInteger;
import java.util.HexFormat;
import java.util.List;

/**
 * The {@code inspect --json} document: {@code {"format": ..., "entries": [LEAF, ...]}}, one LEAF
 * per leaf of the object tree with its {@code path} from the root. A tensor LEAF carries dtype,
 * shape, the saved device, requires_grad and the SHA-256 of its elements' bytes (row-major,
 * little-endian) — the only reason inspect reads tensor bytes.
 */
public final class InspectJson {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private InspectJson() {}

  /** The document of a TorchScript or LibTorch archive: its format, no entries (code is not read). */
  public static ObjectNode archiveDocument(io.ckpt4j.load.Format format) {
    ObjectNode doc = NODES.objectNode();
    doc.put("format", format.jsonName());
    doc.putArray("entries");
    return doc;
  }

  /**
   * The document of a loaded checkpoint; for a .pt2 program also {@code "constants"}: its
   * {@code ep.constants} as entries of the same schema (the state_dict, {@code "entries"}, leaves
   * them out).
   */
  public static ObjectNode document(LoadedCheckpoint checkpoint) throws CheckpointException {
    ObjectNode doc = NODES.objectNode();
    doc.put("format", checkpoint.format().jsonName());
    entries(checkpoint, checkpoint.root(), doc.putArray("entries"));
    if (checkpoint.format() == io.ckpt4j.load.Format.PT2) {
      entries(checkpoint, checkpoint.constants(), doc.putArray("constants"));
    }
    return doc;
  }

  /** One entry per leaf of {@code tree} (a part of {@code checkpoint}), appended to {@code entries}. */
  private static void entries(LoadedCheckpoint checkpoint, Object tree, ArrayNode entries)
      throws CheckpointException {
    TreeWalker.walk(tree, new TreeWalker.Visitor() {
      @Override
      public void leaf(List<Object> path, Object value) throws CheckpointException {
        entries.add(leafNode(checkpoint, path, value));
      }

      @Override
      public void empty(List<Object> path, String type) {
        ObjectNode node = start(path, "empty");
        node.put("type", type);
        entries.add(node);
      }
    });
  }

  public static String toJson(JsonNode node) {
    try {
      return MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(node);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static ObjectNode leafNode(LoadedCheckpoint checkpoint, List<Object> path, Object value)
      throws CheckpointException {
    if (value instanceof TensorRef t) {
      ObjectNode node = start(path, "tensor");
      node.put("dtype", t.dtype().pythonName());
      ArrayNode shape = node.putArray("shape");
      for (long d : t.shape()) shape.add(d);
      node.put("device", t.savedLocation());
      node.put("requires_grad", t.requiresGrad());
      node.put("sha256", TensorBytes.sha256(checkpoint.tensor(t)));
      return node;
    }
    if (value instanceof StorageRef s) {
      // A bare storage (legacy files may pickle storages themselves): its elements, 1-d.
      TensorRef whole = checkpoint.wholeStorage(s);
      ObjectNode node = start(path, "storage");
      node.put("dtype", whole.dtype().pythonName());
      node.put("size", whole.numel());
      node.put("device", s.location());
      node.put("sha256", TensorBytes.sha256(checkpoint.tensor(whole)));
      return node;
    }
    if (value == null) return start(path, "none").putNull("value");
    if (value instanceof Boolean b) return start(path, "bool").put("value", b);
    if (value instanceof Long l) return start(path, "int").put("value", l);
    if (value instanceof BigInteger b) return start(path, "int").put("value", b);
    if (value instanceof Double d) return putFloat(start(path, "float"), "value", d);
    if (value instanceof String s) return start(path, "str").put("value", s);
    if (value instanceof PyBytes b) {
      return start(path, "bytes").put("value", HexFormat.of().formatHex(b.toArray()));
    }
    if (value instanceof PyComplex c) {
      ObjectNode node = start(path, "complex");
      ArrayNode parts = node.putArray("value");
      parts.add(floatNode(c.real()));
      parts.add(floatNode(c.imag()));
      return node;
    }
    if (value instanceof TorchDevice d) return start(path, "device").put("value", d.toString());
    if (value instanceof DType d) return start(path, "dtype").put("value", d.pythonName());
    if (value instanceof PyObject o) return start(path, "object").put("type", o.className());
    return start(path, "object").put("type", PythonTypes.name(value));
  }

  /** A float as JSON: a number, or "nan" / "inf" / "-inf", which JSON cannot spell. */
  static JsonNode floatNode(double d) {
    if (Double.isNaN(d)) return NODES.textNode("nan");
    if (Double.isInfinite(d)) return NODES.textNode(d > 0 ? "inf" : "-inf");
    return NODES.numberNode(d);
  }

  private static ObjectNode putFloat(ObjectNode node, String field, double d) {
    node.set(field, floatNode(d));
    return node;
  }

  private static ObjectNode start(List<Object> path, String kind) {
    ObjectNode node = NODES.objectNode();
    ArrayNode p = node.putArray("path");
    for (Object k : path) {
      if (k instanceof Long l) p.add(l);
      else if (k instanceof BigInteger b) p.add(b);
      else p.add(String.valueOf(k));
    }
    node.put("kind", kind);
    return node;
  }
}
