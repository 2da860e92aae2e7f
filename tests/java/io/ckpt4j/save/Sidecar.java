package io.ckpt4j.save;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ckpt4j.container.safetensors.SafetensorsDtype;
import io.ckpt4j.container.safetensors.SafetensorsWriter;
import io.ckpt4j.tensor.ScalarTypes;
import io.ckpt4j.tensor.TensorBytes;
import io.ckpt4j.value.DType;
import io.ckpt4j.value.PyBytes;
import io.ckpt4j.value.PyOrderedDict;
import io.ckpt4j.value.PyTuple;
import io.ckpt4j.value.TorchValues;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bytedeco.pytorch.LongArrayRef;
import org.bytedeco.pytorch.Storage;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * What a tree built in Java holds, written beside the checkpoint for tests/python/check_saved.py:
 * NAME.json describes the tree (tagged values; each tensor's dtype, sizes, strides, offset,
 * requires_grad, Parameter-ness, conj/neg bits, expected location, and ids of its object and
 * storage) and NAME.safetensors holds every storage's bytes as a uint8 tensor. The facts come
 * from LibTorch directly, not from the saver under test.
 */
final class Sidecar {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private final String location;
  private final Map<Long, String> objectIds = new HashMap<>();
  private final Map<Object, String> parameterIds = new IdentityHashMap<>();
  private final Map<Long, String> storageIds = new HashMap<>();
  private final ObjectNode storages = NODES.objectNode();
  private final SafetensorsWriter bytes = new SafetensorsWriter();

  private Sidecar(String location) {
    this.location = location;
  }

  /**
   * Writes {@code base.json} and {@code base.safetensors} for {@code tree}, whose storages must
   * come back saved at {@code location}; returns the two paths.
   */
  static Path[] write(Object tree, String location, Path base) throws IOException {
    Sidecar s = new Sidecar(location);
    ObjectNode doc = NODES.objectNode();
    doc.set("tree", s.tag(tree));
    doc.set("storages", s.storages);
    Path json = Path.of(base + ".json");
    Path tensors = Path.of(base + ".safetensors");
    JSON.writeValue(json.toFile(), doc);
    if (!s.storageIds.isEmpty()) s.bytes.write(tensors);
    return new Path[] {json, tensors};
  }

  private ObjectNode tag(Object v) throws IOException {
    ObjectNode n = NODES.objectNode();
    if (v == null) {
      n.put("type", "none");
    } else if (v instanceof Boolean b) {
      n.put("type", "bool").put("value", b);
    } else if (v instanceof Long || v instanceof BigInteger) {
      n.put("type", "int").put("value", v.toString());
    } else if (v instanceof Double d) {
      n.put("type", "float").put("bits", doubleBits(d));
    } else if (v instanceof String s) {
      n.put("type", "str").put("value", s);
    } else if (v instanceof PyBytes b) {
      n.put("type", "bytes").put("hex", HexFormat.of().formatHex(b.toArray()));
    } else if (v instanceof TorchValues.TorchDevice d) {
      n.put("type", "device").put("value", d.toString());
    } else if (v instanceof DType d) {
      n.put("type", "dtype").put("value", d.pythonName());
    } else if (v instanceof TorchValues.PyComplex c) {
      n.put("type", "complex").put("re", doubleBits(c.real())).put("im", doubleBits(c.imag()));
    } else if (v instanceof Tensor t) {
      tensor(n, t, t.requires_grad(), false, objectIds.computeIfAbsent(
          t.unsafeGetTensorImpl().address(), a -> "t" + objectIds.size()));
    } else if (v instanceof Parameter p) {
      tensor(n, p.data(), p.requiresGrad(), true,
          parameterIds.computeIfAbsent(p, k -> "p" + parameterIds.size()));
    } else if (v instanceof Map<?, ?> m) {
      n.put("type", v instanceof PyOrderedDict ? "odict" : "dict");
      ArrayNode items = n.putArray("items");
      for (Map.Entry<?, ?> e : m.entrySet()) items.addArray().add(tag(e.getKey())).add(tag(e.getValue()));
      if (v instanceof PyOrderedDict d && d.attributes().containsKey("_metadata")) {
        n.set("metadata", tag(d.attributes().get("_metadata")));
      }
    } else if (v instanceof List<?> l) {
      n.put("type", v instanceof PyTuple ? "tuple" : "list");
      ArrayNode items = n.putArray("items");
      for (Object item : l) items.add(tag(item));
    } else if (v instanceof Set<?> set) {
      n.put("type", "set");
      ArrayNode items = n.putArray("items");
      for (Object item : set) items.add(tag(item));
    } else {
      throw new IllegalArgumentException("no sidecar form for " + v.getClass());
    }
    return n;
  }

  private void tensor(ObjectNode n, Tensor t, boolean requiresGrad, boolean parameter, String id)
      throws IOException {
    n.put("type", "tensor");
    n.put("dtype", ScalarTypes.dtype(t.scalar_type().intern()).orElseThrow().pythonName());
    try (LongArrayRef sizes = t.sizes(); LongArrayRef strides = t.strides()) {
      ArrayNode shape = n.putArray("shape");
      ArrayNode stride = n.putArray("stride");
      for (int i = 0; i < sizes.size(); i++) {
        shape.add(sizes.get(i));
        stride.add(strides.get(i));
      }
    }
    n.put("offset", t.storage_offset());
    n.put("requires_grad", requiresGrad);
    n.put("parameter", parameter);
    n.put("conj", t.is_conj());
    n.put("neg", t.is_neg());
    n.put("location", location);
    n.put("object", id);
    n.put("storage", storage(t));
  }

  /** The storage's id; its bytes go to the safetensors file the first time. */
  private String storage(Tensor t) {
    try (Storage storage = t.storage()) {
      long impl = storage.unsafeGetStorageImpl().address();
      String known = storageIds.get(impl);
      if (known != null) return known;
      String id = "s" + storageIds.size();
      storageIds.put(impl, id);
      long nbytes = storage.nbytes();
      storages.putObject(id).put("tensor", id).put("nbytes", nbytes);
      Tensor u8 = torch.empty(new long[] {0}, new TensorOptions(torch.ScalarType.Byte), null);
      u8.set_(storage, 0, new long[] {nbytes}, 1L);
      bytes.add(id, SafetensorsDtype.U8, new long[] {nbytes}, out -> {
        try (u8) {
          TensorBytes.forEachChunk(u8, chunk -> {
            try {
              while (chunk.hasRemaining()) out.write(chunk);
            } catch (IOException e) {
              throw new java.io.UncheckedIOException(e);
            }
          });
        }
      });
      return id;
    }
  }

  /** The double's bytes as Python's struct.pack('<d') gives them, in hex. */
  private static String doubleBits(double d) {
    return HexFormat.of().formatHex(ByteBuffer.allocate(Double.BYTES)
        .order(ByteOrder.LITTLE_ENDIAN).putDouble(d).array());
  }
}
