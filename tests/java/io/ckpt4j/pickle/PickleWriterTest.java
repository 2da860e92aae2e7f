package io.ckpt4j.pickle;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.Refusals;
import io.ckpt4j.value.PyBytes;
import io.ckpt4j.value.PyGlobalRef;
import io.ckpt4j.value.PyObject;
import io.ckpt4j.value.PyOrderedDict;
import io.ckpt4j.value.PyTuple;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * PickleWriter: each case is written, read back by PickleReader and compared with its own
 * rendering; with -D{@value #PROPERTY}=DIR the pickles and their JSON sidecars also go to DIR,
 * where {@code python3 tests/python/pickle_cases.py check DIR} loads them with Python's pickle
 * and PyTorch's weights-only unpickler.
 */
class PickleWriterTest {
  static final String PROPERTY = "ckpt4j.pickleWriterOut";

  /** Loaders the Python check uses: our restricted one, plain pickle, torch's weights-only. */
  private static final List<String> ALL = List.of("restricted", "plain", "weightsOnly");
  private static final List<String> NO_TORCH = List.of("restricted", "plain");

  private record Case(String name, Object value, List<String> loaders, boolean exact) {}

  /** The writer hook of these tests: Python objects by NEWOBJ and BUILD, persistent ids. */
  private static final PickleWriter.Custom HOOK = (value, out) -> {
    if (value instanceof TaggedJson.PythonObject) {
      TaggedJson.PythonObject o = (TaggedJson.PythonObject) value;
      out.global(o.module(), o.name());
      out.save(PyTuple.EMPTY);
      out.newObject();
      out.memoize(value);
      out.save(o.state());
      out.build();
      return true;
    }
    if (value instanceof TaggedJson.PersistentRef) {
      out.persistentId(((TaggedJson.PersistentRef) value).pid());
      return true;
    }
    return false;
  };

  private static List<Case> cases() {
    List<Case> cases = new ArrayList<>();
    List<Object> ints = new ArrayList<>();
    for (long v : new long[] {0, 1, 255, 256, 65535, 65536, -1, -128, -129, -256, -32768,
        Integer.MAX_VALUE, Integer.MIN_VALUE, Integer.MAX_VALUE + 1L, Integer.MIN_VALUE - 1L,
        Long.MAX_VALUE, Long.MIN_VALUE, 1L << 40, -(1L << 40)}) {
      ints.add(v);
    }
    ints.add(BigInteger.ONE.shiftLeft(64));
    ints.add(BigInteger.ONE.shiftLeft(63));
    ints.add(BigInteger.ONE.shiftLeft(2039).negate()); // 255 bytes: the largest LONG1
    ints.add(new BigInteger("-123456789012345678901234567890"));
    cases.add(new Case("ints", ints, ALL, true));
    cases.add(new Case("ints_long4",
        List.of(BigInteger.ONE.shiftLeft(2040), BigInteger.TEN.pow(1000).negate()), NO_TORCH, true));
    cases.add(new Case("floats", new ArrayList<>(List.of(0.0, -0.0, 1.5, 0.1, 1e300, 4.9e-324,
        Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.MAX_VALUE)), ALL, true));
    cases.add(new Case("scalars", new ArrayList<>(Arrays.asList(null, true, false)), ALL, true));
    cases.add(new Case("strings", new ArrayList<>(List.of("", "plain", "h\u00e9llo w\u00f6rld",
        "\u65e5\u672c\u8a9e", "emoji \ud83d\ude00!", "lone \ud800 surrogate", "x".repeat(70_000),
        "nul\u0000 and newline\n")), ALL, true));
    cases.add(new Case("bytes", new ArrayList<>(List.of(
        PyBytes.of(new byte[] {0, 1, (byte) 0x80, (byte) 0xff}), PyBytes.of("text".getBytes()))),
        ALL, true));
    cases.add(new Case("bytes_empty", PyBytes.EMPTY, ALL, false));
    cases.add(new Case("tuples", new ArrayList<>(List.of(PyTuple.EMPTY, PyTuple.of(1L),
        PyTuple.of(1L, "a2"), PyTuple.of(1L, 2L, 3L), PyTuple.of(1L, 2L, 3L, 4L),
        PyTuple.of(PyTuple.of(PyTuple.of(9L)), 8L))), ALL, true));
    List<Object> longList = new ArrayList<>();
    for (long i = 0; i < 2500; i++) {
      longList.add(i * 1000);
    }
    cases.add(new Case("list_batches", longList, ALL, true));
    cases.add(new Case("list_single", new ArrayList<>(List.of("only item")), ALL, true));
    Map<Object, Object> bigDict = new LinkedHashMap<>();
    for (int i = 0; i < 2500; i++) {
      bigDict.put("key" + i, (long) i);
    }
    cases.add(new Case("dict_batches", bigDict, ALL, true));
    Map<Object, Object> keys = new LinkedHashMap<>();
    keys.put(PyTuple.of(1L, "tuple key"), "t");
    keys.put(7L, "int key");
    keys.put(null, "none key");
    keys.put(PyBytes.of(new byte[] {1, 2}), "bytes key");
    cases.add(new Case("dict_keys", keys, ALL, false));
    cases.add(new Case("dict_single", new LinkedHashMap<Object, Object>(Map.of("one key", 1L)),
        ALL, true));
    cases.add(new Case("set", new LinkedHashSet<Object>(List.of(1L, 2L, 3L)), ALL, false));
    PyOrderedDict stateDict = new PyOrderedDict();
    stateDict.put("layer.weight", 1.5);
    stateDict.put("layer.bias", new ArrayList<>(List.of(1L, 2L)));
    Map<Object, Object> metadata = new PyOrderedDict();
    metadata.put("", new LinkedHashMap<Object, Object>(Map.of("version", 1L)));
    metadata.put("layer", new LinkedHashMap<Object, Object>(Map.of("version", 2L)));
    stateDict.setAttribute("_metadata", metadata);
    cases.add(new Case("ordered_dict", stateDict, ALL, true));
    cases.add(new Case("ordered_dict_plain", new PyOrderedDict(), ALL, true));
    List<Object> shared = new ArrayList<>(List.of("shared item"));
    Map<Object, Object> holder = new LinkedHashMap<>();
    holder.put("first", shared);
    holder.put("second", shared);
    holder.put("nested", new ArrayList<>(List.of(shared, holder.size())));
    cases.add(new Case("shared", holder, ALL, true));
    List<Object> self = new ArrayList<>();
    self.add("self list");
    self.add(self);
    cases.add(new Case("self_list", self, ALL, true));
    List<Object> inner = new ArrayList<>();
    PyTuple outer = PyTuple.of(inner, "tuple");
    inner.add(outer);
    cases.add(new Case("recursive_tuple", outer, NO_TORCH, true));
    cases.add(new Case("global_ref", new ArrayList<>(List.of(new PyGlobalRef("argparse", "Namespace"))),
        List.of("plain"), true));
    Map<Object, Object> nsState = new LinkedHashMap<>();
    nsState.put("lr", 0.1);
    nsState.put("name", "run");
    cases.add(new Case("custom_object", new TaggedJson.PythonObject("argparse", "Namespace", nsState),
        List.of("plain"), false));
    cases.add(new Case("persistent_id", new ArrayList<>(List.of(
        new TaggedJson.PersistentRef(PyTuple.of("storage", "FloatStorage", "0", "cpu", 4L)), 5L)),
        NO_TORCH, false));
    return cases;
  }

  @TestFactory
  List<DynamicTest> writtenPicklesReadBack(@TempDir Path temp) throws IOException {
    String out = System.getProperty(PROPERTY);
    Path dir = out != null ? Path.of(out) : temp;
    Files.createDirectories(dir);
    List<DynamicTest> tests = new ArrayList<>();
    for (Case c : cases()) {
      tests.add(DynamicTest.dynamicTest(c.name(), () -> runCase(c, dir)));
    }
    return tests;
  }

  private static void runCase(Case c, Path dir) throws IOException {
    byte[] pickle = PickleWriter.toBytes(c.value(), HOOK);
    ObjectNode sidecar = TaggedJson.MAPPER.createObjectNode();
    sidecar.set("expect", TaggedJson.render(c.value()));
    sidecar.set("loaders", TaggedJson.MAPPER.valueToTree(c.loaders()));
    sidecar.put("exact", c.exact());
    Files.write(dir.resolve(c.name() + ".pkl"), pickle);
    TaggedJson.MAPPER.writerWithDefaultPrettyPrinter()
        .writeValue(dir.resolve(c.name() + ".json").toFile(), sidecar);

    PickleOptions options = PickleOptions.builder()
        .resolver(GlobalResolver.pythonBuiltins()
            .orElse(GlobalResolver.inert("argparse.Namespace"::equals))
            .orElse(GlobalResolver.refuseAll()))
        .persistentLoader(TaggedJson.PersistentRef::new)
        .allowCycles(true)
        .where(c.name() + ".pkl")
        .build();
    Object back = PickleReader.load(pickle, options);
    if (c.value() instanceof TaggedJson.PythonObject) {
      PyObject o = assertInstanceOf(PyObject.class, back);
      assertEquals("argparse.Namespace", o.className());
      assertEquals(((TaggedJson.PythonObject) c.value()).state(), o.state());
      return;
    }
    TaggedJson.assertMatches(sidecar.get("expect"), back);
  }

  @Test
  void writesProtocolTwoHeaderAndStop() throws CheckpointException {
    byte[] pickle = PickleWriter.toBytes(null);
    assertArrayEquals(new byte[] {(byte) 0x80, 2, 'N', '.'}, pickle);
  }

  @Test
  void identicalObjectsAreWrittenOnce() throws CheckpointException {
    String s = "a string written twice";
    byte[] once = PickleWriter.toBytes(new ArrayList<>(List.of(s)));
    byte[] twice = PickleWriter.toBytes(new ArrayList<>(List.of(s, s)));
    // The second is a BINGET (2 bytes) plus the batch's MARK/APPENDS instead of APPEND.
    assertEquals(once.length + 3, twice.length);
    List<?> back = assertInstanceOf(List.class, PickleReader.load(twice, PickleOptions.defaults()));
    assertSame(back.get(0), back.get(1));
  }

  @Test
  void unknownValuesNeedAHook() {
    CheckpointException e = Refusals.assertRefused(Kind.UNSUPPORTED_VALUE,
        () -> PickleWriter.toBytes(new ArrayList<>(List.of(new Object()))));
    assertTrue(e.getMessage().contains("cannot pickle a Java java.lang.Object"), e.getMessage());
  }

  @Test
  void tooDeepValuesAreRefused() {
    List<Object> root = new ArrayList<>();
    List<Object> cur = root;
    for (int i = 0; i < PickleWriter.MAX_DEPTH + 5; i++) {
      List<Object> next = new ArrayList<>();
      cur.add(next);
      cur = next;
    }
    CheckpointException e =
        Refusals.assertRefused(Kind.LIMIT_EXCEEDED, () -> PickleWriter.toBytes(root));
    assertTrue(e.getMessage().contains("nests containers more than"), e.getMessage());
  }

  @Test
  void protocolTwoGlobalsMustBeAscii() {
    Refusals.assertRefused(Kind.UNSUPPORTED_VALUE,
        () -> PickleWriter.toBytes(new PyGlobalRef("m\u00f6d", "x")));
    Refusals.assertRefused(Kind.UNSUPPORTED_VALUE,
        () -> PickleWriter.toBytes(new PyGlobalRef("mod", "a\nb")));
  }
}
