package io.ckpt4j.pickle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.Refusals;
import io.ckpt4j.value.PyAppendable;
import io.ckpt4j.value.PyBuildable;
import io.ckpt4j.value.PyBytes;
import io.ckpt4j.value.PyCallable;
import io.ckpt4j.value.PyObject;
import io.ckpt4j.value.PyTuple;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The reader's contract with its callers: resolver chains, refusal messages, calls into caller
 * code, streaming positions. Python-decoded values are checked by PickleCasesTest.
 */
class PickleReaderTest {
  private static byte[] ascii(String text) {
    return text.getBytes(StandardCharsets.ISO_8859_1);
  }

  private static PickleOptions options(GlobalResolver resolver) {
    return PickleOptions.builder().resolver(resolver).where("test.pkl").build();
  }

  @Test
  void refusedGlobalHasTheStandardMessageAndItsHintWorks() throws CheckpointException {
    byte[] pickle = ascii("cos\nsystem\n(S'ls'\ntR.");
    UnsupportedGlobalException e = assertThrows(UnsupportedGlobalException.class,
        () -> PickleReader.load(pickle, options(GlobalResolver.refuseAll())));
    assertEquals(Kind.REFUSED_GLOBAL, e.kind());
    assertEquals("os", e.module());
    assertEquals("system", e.name());
    assertEquals("unsupported global 'os.system' in test.pkl at byte 0: ckpt4j refuses to load"
        + " code-bearing globals; if you trust this file, read it as an inert object: add"
        + " GlobalResolver.inert(\"os.system\"::equals) to the resolver (orElse)", e.getMessage());
    // The hint, applied as written: the file then loads, and os.system is a record, never called.
    Object value = PickleReader.load(pickle,
        options(GlobalResolver.refuseAll().orElse(GlobalResolver.inert("os.system"::equals))));
    PyObject call = assertInstanceOf(PyObject.class, value);
    assertEquals("os.system", call.className());
    assertEquals(PyTuple.of("ls"), call.args());
  }

  @Test
  void callerWordsItsOwnRefusal() {
    PickleOptions options = PickleOptions.builder()
        .refusal((global, where) -> "no " + global + " (" + where + "); use --allow " + global)
        .where("x.pt")
        .build();
    CheckpointException e = assertThrows(UnsupportedGlobalException.class,
        () -> PickleReader.load(ascii("\u0080\u0002cos\nsystem\n."), options));
    assertEquals("no os.system (x.pt at byte 2); use --allow os.system", e.getMessage());
  }

  @Test
  void resolversChainUntilOneAccepts() throws CheckpointException {
    List<String> asked = new ArrayList<>();
    GlobalResolver first = (m, n) -> {
      asked.add("first " + m + "." + n);
      throw new UnsupportedGlobalException(m, n);
    };
    GlobalResolver second = GlobalResolver.of(Map.of("pkg.Const", 42L));
    Object value = PickleReader.load(ascii("cpkg\nConst\n."),
        options(first.orElse(second).orElse(GlobalResolver.refuseAll())));
    assertEquals(42L, value);
    assertEquals(List.of("first pkg.Const"), asked);
  }

  @Test
  void aResolverErrorStopsTheChain() {
    GlobalResolver broken = (m, n) -> {
      throw new CheckpointException(Kind.INVALID_VALUE, "torch.Foo is recognised but malformed");
    };
    CheckpointException e = assertThrows(CheckpointException.class,
        () -> PickleReader.load(ascii("ctorch\nFoo\n."),
            options(broken.orElse(GlobalResolver.inert(s -> true)))));
    assertTrue(!(e instanceof UnsupportedGlobalException), e.getClass().toString());
    assertEquals("GLOBAL at byte 0 in test.pkl: global 'torch.Foo': torch.Foo is recognised but"
        + " malformed", e.getMessage());
    assertEquals(Kind.INVALID_VALUE, e.kind(), "the resolver's kind comes through");
  }

  @Test
  void resolverSeesPythonThreeNames() throws CheckpointException {
    List<String> asked = new ArrayList<>();
    GlobalResolver spy = (m, n) -> {
      asked.add(m + "." + n);
      return "ok";
    };
    PickleReader.load(ascii("(c__builtin__\nunicode\nccopy_reg\n_reconstructor\nc__builtin__\nset\nt."),
        options(spy));
    assertEquals(List.of("builtins.str", "copyreg._reconstructor", "builtins.set"), asked);
  }

  @Test
  void callsIntoCallerCodeAreLocated() {
    PyCallable failing = args -> {
      throw new CheckpointException(Kind.INVALID_TENSOR,
          "expected 6 arguments, got " + args.size());
    };
    PyCallable buggy = args -> ((String) args.get(0)).length() + 0L;
    GlobalResolver resolver =
        GlobalResolver.of(Map.of("torch._utils.rebuild", failing, "m.buggy", buggy));
    CheckpointException e = assertThrows(CheckpointException.class,
        () -> PickleReader.load(ascii("\u0080\u0002ctorch._utils\nrebuild\nK\u0001\u0085R."),
            options(resolver)));
    assertEquals("REDUCE at byte 27 in test.pkl: torch._utils.rebuild: expected 6 arguments, got 1",
        e.getMessage());
    assertEquals(Kind.INVALID_TENSOR, e.kind(), "the callee's kind comes through");
    assertEquals("REDUCE at byte 27 in test.pkl", e.location().orElseThrow());
    e = assertThrows(CheckpointException.class,
        () -> PickleReader.load(ascii("\u0080\u0002cm\nbuggy\nK\u0001\u0085R."), options(resolver)));
    assertTrue(e.getMessage().startsWith("REDUCE at byte 14 in test.pkl: m.buggy failed:"
        + " java.lang.ClassCastException"), e.getMessage());
    assertEquals(Kind.MALFORMED_PICKLE, e.kind());
    assertInstanceOf(ClassCastException.class, e.getCause());
  }

  @Test
  void reduceNeedsACallable() {
    CheckpointException e = Refusals.assertRefused(Kind.MALFORMED_PICKLE,
        () -> PickleReader.load(ascii("\u0080\u0002cm\nconst\n)R."),
            options(GlobalResolver.of(Map.of("m.const", 1L)))));
    assertTrue(e.getMessage().contains("REDUCE needs an allowed callable or class, not m.const"),
        e.getMessage());
  }

  @Test
  void buildGoesToBuildablesAndObjectsOnly() throws CheckpointException {
    List<Object> states = new ArrayList<>();
    PyBuildable target = states::add;
    GlobalResolver resolver = GlobalResolver.of(Map.of("m.make", (PyCallable) args -> target));
    Object built = PickleReader.load(ascii("\u0080\u0002cm\nmake\n)RK\u0007b."), options(resolver));
    assertSame(target, built);
    assertEquals(List.of(7L), states);
    CheckpointException e = Refusals.assertRefused(Kind.MALFORMED_PICKLE,
        () -> PickleReader.load(ascii("\u0080\u0002]K\u0007b."), PickleOptions.defaults()));
    assertTrue(e.getMessage().contains("cannot BUILD a list"), e.getMessage());
  }

  @Test
  void appendablesTakeItems() throws CheckpointException {
    List<Object> items = new ArrayList<>();
    PyAppendable target = items::add;
    GlobalResolver resolver = GlobalResolver.of(Map.of("m.make", (PyCallable) args -> target));
    PickleReader.load(ascii("\u0080\u0002cm\nmake\n)R(K\u0001K\u0002eK\u0003a."), options(resolver));
    assertEquals(List.of(1L, 2L, 3L), items);
  }

  @Test
  void newObjectGetsClassArgumentsAndKeywords() throws CheckpointException {
    Object o = PickleReader.load(ascii("\u0080\u0004cm\nC\nK\u0001\u0085}\u008c\u0001k\u0088s\u0092."),
        options(GlobalResolver.inert("m.C"::equals)));
    PyObject obj = assertInstanceOf(PyObject.class, o);
    assertEquals("m.C", obj.className());
    assertEquals(PyTuple.of(1L), obj.args());
    assertEquals(Map.of("k", true), obj.kwargs());
  }

  @Test
  void loadNextReadsPicklesBackToBack() throws CheckpointException {
    byte[] three = ascii("junkK\u0001.\u0080\u0002X\u0002\u0000\u0000\u0000hi.N.tail");
    ByteBuffer buf = ByteBuffer.wrap(three);
    buf.position(4);
    assertEquals(1L, PickleReader.loadNext(buf, PickleOptions.defaults()));
    assertEquals(7, buf.position());
    assertEquals("hi", PickleReader.loadNext(buf, PickleOptions.defaults()));
    assertEquals(17, buf.position());
    assertEquals(null, PickleReader.loadNext(buf, PickleOptions.defaults()));
    assertEquals(19, buf.position());
    int before = buf.position();
    CheckpointException e = Refusals.assertRefused(Kind.MALFORMED_PICKLE,
        () -> PickleReader.loadNext(buf, PickleOptions.defaults()));
    assertEquals(before, buf.position(), "unchanged on error");
    assertTrue(e.getMessage().contains("at byte 19"), "offsets are buffer positions: " + e.getMessage());
  }

  @Test
  void loadLeavesThePositionAndWantsOnePickle() throws CheckpointException {
    ByteBuffer buf = ByteBuffer.wrap(ascii("xxK\u0005."));
    buf.position(2);
    assertEquals(5L, PickleReader.load(buf, PickleOptions.defaults()));
    assertEquals(2, buf.position());
    CheckpointException e = Refusals.assertRefused(Kind.MALFORMED_PICKLE,
        () -> PickleReader.load(ascii("N.N."), PickleOptions.defaults()));
    assertTrue(e.getMessage().startsWith("2 bytes after the STOP opcode at byte 1 in pickle"),
        e.getMessage());
    // The message's hint, applied: loadNext reads the two pickles back to back.
    assertTrue(e.getMessage().endsWith("(PickleReader.loadNext reads pickles back to back)"),
        e.getMessage());
    ByteBuffer two = ByteBuffer.wrap(ascii("N.N."));
    assertEquals(null, PickleReader.loadNext(two, PickleOptions.defaults()));
    assertEquals(null, PickleReader.loadNext(two, PickleOptions.defaults()));
    assertEquals(4, two.position());
  }

  @Test
  void directBuffersWork() throws CheckpointException {
    byte[] pickle = PickleWriter.toBytes(List.of("direct", 1L));
    ByteBuffer direct = ByteBuffer.allocateDirect(pickle.length);
    direct.put(pickle).flip();
    assertEquals(List.of("direct", 1L), PickleReader.load(direct, PickleOptions.defaults()));
  }

  @Test
  void py2StringsDecodeWithTheChosenCharset() throws CheckpointException {
    byte[] pickle = ascii("U\u0002\u00c3\u00a9.");
    assertEquals("\u00c3\u00a9", PickleReader.load(pickle, PickleOptions.defaults()));
    PickleOptions utf8 = PickleOptions.builder().py2StringCharset(StandardCharsets.UTF_8).build();
    assertEquals("\u00e9", PickleReader.load(pickle, utf8));
    CheckpointException e = Refusals.assertRefused(Kind.MALFORMED_PICKLE,
        () -> PickleReader.load(ascii("U\u0001\u00ff."), utf8));
    assertTrue(e.getMessage().endsWith("not valid UTF-8 (PickleOptions.py2StringCharset)"),
        e.getMessage());
    // The option the message names, at Latin-1 (the default): the same bytes read.
    PickleOptions latin1 =
        PickleOptions.builder().py2StringCharset(StandardCharsets.ISO_8859_1).build();
    assertEquals("\u00ff", PickleReader.load(ascii("U\u0001\u00ff."), latin1));
  }

  @Test
  void tuplesAndBytesAreValues() {
    PyTuple t = PyTuple.of(1L, "a", PyTuple.of(PyBytes.of(new byte[] {1})));
    assertEquals(PyTuple.of(1L, "a", PyTuple.of(PyBytes.of(new byte[] {1}))), t);
    assertEquals(List.of(1L, "a", List.of(PyBytes.of(new byte[] {1}))).hashCode(), t.hashCode());
    assertTrue(t.isHashable());
    assertTrue(!PyTuple.of(new ArrayList<>()).isHashable());
    byte[] raw = {1, 2};
    PyBytes b = PyBytes.of(raw);
    raw[0] = 9;
    assertEquals(1, b.toArray()[0], "copied in");
    b.toArray()[1] = 9;
    assertEquals(2, b.byteAt(1), "copied out");
    assertNotEquals(PyBytes.of(new byte[] {1}), PyBytes.of(new byte[] {2}));
    assertThrows(UnsupportedOperationException.class, () -> t.add("x"));
  }

  @Test
  void limitsMustBePositive() {
    assertThrows(IllegalArgumentException.class, () -> PickleLimits.builder().maxNestingDepth(0).build());
    assertThrows(IllegalArgumentException.class, () -> PickleLimits.builder().maxElements(-1).build());
  }
}
