package io.ckpt4j.libtorch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ckpt4j.CheckpointException;
import io.ckpt4j.TestData;
import io.ckpt4j.container.safetensors.SafetensorsDtype;
import io.ckpt4j.container.safetensors.SafetensorsWriter;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.tensor.ScalarTypes;
import io.ckpt4j.tensor.TensorBytes;
import io.ckpt4j.value.DType;
import io.ckpt4j.value.PyTuple;
import io.ckpt4j.value.TensorRef;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * What tests/python/make_torchscript.py writes into {@code <ckpt4j.testdata>/torchscript}: its
 * manifest, the input/output trees of each case (tensors in safetensors files), and the way back
 * into Python ({@code make_torchscript.py --check}) for what Java writes.
 */
final class ScriptFixtures {
  static final String DIR = "torchscript";
  static final String SCRIPT = "make_torchscript.py";
  static final String JAVA_MANIFEST = "java.json";
  private static final long CHECK_TIMEOUT_MINUTES = 5;

  private ScriptFixtures() {}

  static Path dir() {
    return TestData.dir(DIR);
  }

  static JsonNode manifest() {
    return TestData.manifest(DIR);
  }

  static List<JsonNode> list(String key) {
    List<JsonNode> out = new ArrayList<>();
    manifest().get(key).forEach(out::add);
    return out;
  }

  static JsonNode caseNamed(String name) {
    for (JsonNode c : manifest().get("cases")) {
      if (c.get("name").asText().equals(name)) return c;
    }
    throw new AssertionError("no case " + name + " in " + SCRIPT + "'s manifest");
  }

  static Path file(JsonNode entry) {
    return dir().resolve(entry.get("file").asText());
  }

  /** A safetensors file of the fixtures (tensors belong to the returned checkpoint). */
  static LoadedCheckpoint tensors(String relative) throws CheckpointException {
    return CheckpointLoader.load(dir().resolve(relative), LoadOptions.defaults());
  }

  static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }

  /** The Java value of a tree (see tests/python/torchscript_values.py). */
  static Object decode(JsonNode tree, LoadedCheckpoint tensors) throws CheckpointException {
    Iterator<String> names = tree.fieldNames();
    String kind = names.next();
    JsonNode body = tree.get(kind);
    switch (kind) {
      case "tensor":
        return tensors.tensor((TensorRef) ((Map<?, ?>) tensors.root()).get(body.asText()));
      case "int":
        return body.asLong();
      case "float":
        return body.asDouble();
      case "bool":
        return body.asBoolean();
      case "str":
        return body.asText();
      case "none":
        return null;
      case "tuple": {
        List<Object> items = decodeAll(body, tensors);
        return PyTuple.of(items.toArray());
      }
      case "list":
        return decodeAll(body, tensors);
      case "dict": {
        Map<Object, Object> map = new LinkedHashMap<>();
        for (JsonNode pair : body) map.put(decode(pair.get(0), tensors), decode(pair.get(1), tensors));
        return map;
      }
      case "object": {
        Map<String, Object> attributes = new LinkedHashMap<>();
        var fields = tree.get("attrs").fields();
        while (fields.hasNext()) {
          var f = fields.next();
          attributes.put(f.getKey(), decode(f.getValue(), tensors));
        }
        return new ScriptObject(body.asText(), attributes);
      }
      default:
        throw new AssertionError("unknown tree kind " + kind);
    }
  }

  static List<Object> decodeAll(JsonNode array, LoadedCheckpoint tensors)
      throws CheckpointException {
    List<Object> out = new ArrayList<>();
    for (JsonNode item : array) out.add(decode(item, tensors));
    return out;
  }

  /**
   * Asserts that {@code actual} is {@code expected}: same structure and Java types, scalars
   * equal, tensors of the same dtype and shape, equal within {@code atol} (0: bit for bit; tensors
   * that are not floating point always bit for bit).
   */
  static void assertSame(Object expected, Object actual, double atol, String where) {
    if (expected instanceof Tensor e) {
      Tensor a = assertInstanceOf(Tensor.class, actual, where);
      assertTensor(e, a, atol, where);
    } else if (expected instanceof PyTuple e) {
      PyTuple a = assertInstanceOf(PyTuple.class, actual, where + ": a tuple");
      assertEquals(e.size(), a.size(), where + ": tuple length");
      for (int i = 0; i < e.size(); i++) assertSame(e.get(i), a.get(i), atol, where + "[" + i + "]");
    } else if (expected instanceof List<?> e) {
      List<?> a = assertInstanceOf(List.class, actual, where + ": a list");
      assertTrue(!(a instanceof PyTuple), where + ": a list, not a tuple");
      assertEquals(e.size(), a.size(), where + ": list length");
      for (int i = 0; i < e.size(); i++) assertSame(e.get(i), a.get(i), atol, where + "[" + i + "]");
    } else if (expected instanceof Map<?, ?> e) {
      Map<?, ?> a = assertInstanceOf(Map.class, actual, where + ": a dict");
      assertEquals(new ArrayList<>(e.keySet()), new ArrayList<>(a.keySet()), where + ": keys");
      for (Object k : e.keySet()) assertSame(e.get(k), a.get(k), atol, where + "[" + k + "]");
    } else if (expected instanceof ScriptObject e) {
      ScriptObject a = assertInstanceOf(ScriptObject.class, actual, where + ": an object");
      assertEquals(e.className(), a.className(), where + ": class");
      for (String k : e.attributes().keySet()) {
        assertTrue(a.attributes().containsKey(k), where + ": attribute " + k);
        assertSame(e.attributes().get(k), a.attributes().get(k), atol, where + "." + k);
      }
    } else {
      assertEquals(expected, actual, where);
    }
  }

  static void assertTensor(Tensor expected, Tensor actual, double atol, String where) {
    assertEquals(dtype(expected), dtype(actual), where + ": dtype");
    assertEquals(shape(expected), shape(actual), where + ": shape");
    if (atol == 0 || !expected.is_floating_point()) {
      assertTrue(torch.equal(expected, actual.cpu()), where + ": values differ");
    } else if (expected.numel() > 0) {
      try (Tensor diff = expected.sub(actual.cpu()).abs().max()) {
        double max = diff.item_double();
        assertTrue(max <= atol, where + ": max abs diff " + max + " > " + atol);
      }
    }
  }

  /** Asserts a state dict: the names in order, each tensor bit for bit. */
  static void assertStateDict(List<String> names, LoadedCheckpoint expected,
      Map<String, Tensor> actual, String where) throws CheckpointException {
    assertEquals(names, new ArrayList<>(actual.keySet()), where + ": state_dict names in order");
    Map<?, ?> root = (Map<?, ?>) expected.root();
    for (String name : names) {
      assertTensor(expected.tensor((TensorRef) root.get(name)), actual.get(name), 0,
          where + ": " + name);
    }
  }

  static String dtype(Tensor t) {
    return dtypeOf(t).pythonName();
  }

  /** The DType of a tensor, compared by value (JavaCPP's native enums are new instances). */
  static DType dtypeOf(Tensor t) {
    int value = t.scalar_type().value;
    for (DType d : DType.values()) {
      if (ScalarTypes.of(d).value == value) return d;
    }
    throw new AssertionError("no DType for " + t.scalar_type());
  }

  static List<Long> shape(Tensor t) {
    List<Long> out = new ArrayList<>();
    for (long d = 0; d < t.dim(); d++) out.add(t.size(d));
    return out;
  }

  /** Writes {@code tensors} (CPU copies, row-major) as a safetensors file Python reads. */
  static void writeSafetensors(Map<String, Tensor> tensors, Path file) throws CheckpointException {
    SafetensorsWriter writer = new SafetensorsWriter();
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      Tensor t = e.getValue();
      SafetensorsDtype dtype = SafetensorsDtype.of(dtypeOf(t).safetensorsCode()).orElseThrow();
      long[] shape = shape(t).stream().mapToLong(Long::longValue).toArray();
      writer.add(e.getKey(), dtype, shape, out -> TensorBytes.forEachChunk(t, chunk -> {
        try {
          while (chunk.hasRemaining()) out.write(chunk);
        } catch (IOException x) {
          throw new UncheckedIOException(x);
        }
      }));
    }
    writer.write(file);
  }

  static void writeJson(Path file, Object json) throws IOException {
    Files.writeString(file, new ObjectMapper().writerWithDefaultPrettyPrinter()
        .writeValueAsString(json));
  }

  /** Runs {@code make_torchscript.py --check DIR javaDir}; fails the test when Python objects. */
  static String checkWithPython(Path javaDir) throws IOException, InterruptedException {
    String python = System.getProperty("ckpt4j.python");
    if (python == null) fail("set -Dckpt4j.python=PATH to the build's Python (torch 2.13)");
    Path script = Path.of(System.getProperty("ckpt4j.pythonTests", "tests/python")).resolve(SCRIPT);
    Process process = new ProcessBuilder(python, script.toString(), "--check", dir().toString(),
        javaDir.toString()).redirectErrorStream(true).start();
    byte[] output = process.getInputStream().readAllBytes();
    if (!process.waitFor(CHECK_TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
      process.destroyForcibly();
      fail(SCRIPT + " --check timed out");
    }
    String text = new String(output, StandardCharsets.UTF_8);
    if (process.exitValue() != 0) fail("Python rejects what Java wrote:\n" + text);
    return text;
  }
}
