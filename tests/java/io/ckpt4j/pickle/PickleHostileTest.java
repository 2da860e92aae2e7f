package io.ckpt4j.pickle;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.Refusals;
import io.ckpt4j.value.PyBytes;
import io.ckpt4j.value.PyOrderedDict;
import io.ckpt4j.value.PyTuple;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Hand-built malformed and hostile pickles: each must fail with a CheckpointException, fast. */
class PickleHostileTest {
  private static final Duration QUICKLY = Duration.ofSeconds(5);
  private static final int MILLION = 1_000_000;

  private static CheckpointException refused(Kind kind, byte[] pickle) {
    return refused(kind, pickle, PickleOptions.builder().where("hostile.pkl").build());
  }

  private static CheckpointException refused(Kind kind, byte[] pickle, PickleOptions options) {
    CheckpointException e = Refusals.assertRefused(kind,
        () -> assertTimeoutPreemptively(QUICKLY, () -> PickleReader.load(pickle, options)));
    assertTrue(e.getMessage().contains(options.where()), "names the input: " + e.getMessage());
    return e;
  }

  private static void assertContains(String expected, CheckpointException e) {
    assertTrue(e.getMessage().contains(expected), "'" + expected + "' in: " + e.getMessage());
  }

  /** Bytes from int values, for readable hand-built pickles. */
  private static byte[] bytes(int... values) {
    byte[] out = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = (byte) values[i];
    }
    return out;
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  private static byte[] repeat(int b, int count) {
    byte[] out = new byte[count];
    Arrays.fill(out, (byte) b);
    return out;
  }

  private static byte[] le64(long v) {
    return ByteBuffer.allocate(Long.BYTES).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
  }

  private static byte[] le32(int v) {
    return ByteBuffer.allocate(Integer.BYTES).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
  }

  /** A pickle that uses many opcodes, written by the writer, plus protocol 0 and 4 ones. */
  private static List<byte[]> validPickles() throws CheckpointException {
    Map<Object, Object> dict = new LinkedHashMap<>();
    List<Object> shared = new ArrayList<>(List.of(1L, "two", 3.0));
    dict.put("shared", shared);
    dict.put("again", shared);
    dict.put("tuple", PyTuple.of(1L, PyTuple.of(2L, 3L), PyBytes.of(new byte[] {0, -1})));
    dict.put("big", new java.math.BigInteger("123456789012345678901234567890"));
    PyOrderedDict od = new PyOrderedDict();
    od.put("w", -70000L);
    od.setAttribute("_metadata", new LinkedHashMap<>(Map.of("", 1L)));
    dict.put("od", od);
    return List.of(
        PickleWriter.toBytes(dict),
        "(lp0\nI1\naS'two'\np1\naF3.5\naV\\u00e9\np2\nag1\na(dp3\nL5L\nI00\nsap4\n.".getBytes(
            java.nio.charset.StandardCharsets.ISO_8859_1),
        concat(bytes(0x80, 4, 0x95), le64(14),
            bytes(0x8c, 3, 'a', 'b', 'c', 0x94, 0x8f, 0x94, '(', 'h', 0, 0x90, 0x86, '.')));
  }

  @Test
  void truncationAtEveryOffsetIsRefused() throws Exception {
    PickleOptions options = PickleOptions.builder().where("cut.pkl")
        .resolver(GlobalResolver.pythonBuiltins()).build();
    for (byte[] whole : validPickles()) {
      PickleReader.load(whole, options); // the whole pickle is fine
      for (int cut = 0; cut < whole.length; cut++) {
        byte[] prefix = Arrays.copyOf(whole, cut);
        CheckpointException e = refused(Kind.TRUNCATED, prefix, options);
        assertTrue(e.getMessage().contains("at byte"), e.getMessage());
      }
    }
  }

  @Test
  void truncationNamesTheOffset() {
    // BINUNICODE of 100 bytes with 3 present.
    CheckpointException e = refused(Kind.TRUNCATED,
        concat(bytes('X'), le32(100), bytes('a', 'b', 'c')));
    assertContains("truncated pickle at byte 0 of 8", e);
    assertContains("BINUNICODE needs 100 more bytes, 3 remain", e);
  }

  @Test
  void hugeLengthsAreRefusedBeforeAllocating() {
    assertContains("negative length",
        refused(Kind.MALFORMED_PICKLE, concat(bytes(0x80, 4, 0x8d), le64(-16), bytes('.'))));
    assertContains("truncated",
        refused(Kind.TRUNCATED, concat(bytes(0x80, 4, 0x8d), le64(1L << 40), bytes('.'))));
    assertContains("truncated",
        refused(Kind.TRUNCATED, concat(bytes(0x80, 4, 0x8e), le64(Long.MAX_VALUE), bytes('.'))));
    assertContains("truncated",
        refused(Kind.TRUNCATED, concat(bytes(0x80, 5, 0x96), le64(1L << 33), bytes('.'))));
    assertContains("truncated", refused(Kind.TRUNCATED, concat(bytes('B'), le32(-1), bytes('.'))));
    assertContains("negative length",
        refused(Kind.MALFORMED_PICKLE, concat(bytes('T'), le32(-5), bytes('.'))));
    assertContains("FRAME length",
        refused(Kind.TRUNCATED, concat(bytes(0x80, 4, 0x95), le64(1L << 50), bytes('N', '.'))));
    // LONG4 with a 2^31-1 length, and one that is negative.
    assertContains("maxIntegerBytes",
        refused(Kind.LIMIT_EXCEEDED,
            concat(bytes(0x80, 2, 0x8b), le32(Integer.MAX_VALUE), bytes('.'))));
    assertContains("negative length",
        refused(Kind.MALFORMED_PICKLE,
            concat(bytes(0x80, 2, 0x8b), le32(Integer.MIN_VALUE), bytes('.'))));
  }

  @Test
  void stringLimitIsEnforced() {
    PickleOptions options = PickleOptions.builder().where("limit.pkl")
        .limits(PickleLimits.builder().maxStringBytes(4).build()).build();
    assertContains("maxStringBytes",
        refused(Kind.LIMIT_EXCEEDED,
            concat(bytes('X'), le32(5), "hello".getBytes(), bytes('.')), options));
  }

  @Test
  void millionNestedMarksHitTheMarkLimit() {
    byte[] pickle = concat(repeat('(', MILLION), bytes('.'));
    assertContains("maxMarkDepth", refused(Kind.LIMIT_EXCEEDED, pickle));
  }

  @Test
  void millionNestedTuplesHitTheNestingLimit() {
    byte[] pickle = concat(bytes(0x80, 2, ']'), repeat(0x85, MILLION), bytes('.'));
    assertContains("maxNestingDepth", refused(Kind.LIMIT_EXCEEDED, pickle));
  }

  @Test
  void millionNestedListsHitTheNestingLimit() {
    // ] x 1e6 then APPEND x (1e6 - 1): each list goes into the one below, 1e6 deep.
    byte[] pickle = concat(bytes(0x80, 2), repeat(']', MILLION), repeat('a', MILLION - 1), bytes('.'));
    assertContains("maxNestingDepth", refused(Kind.LIMIT_EXCEEDED, pickle));
  }

  @Test
  void deepNestingBuiltThroughTheMemoIsCaught() {
    // Each level is appended to the one above after that one is already in place, through the
    // memo: root = []; cur = root; 2000 times: child = []; cur.append(child); cur = child.
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(bytes(0x80, 2, ']', 'q', 0));
    for (int i = 0; i < 2000; i++) {
      out.writeBytes(bytes('h', 0, ']', 'q', 0, 'a', '0'));
    }
    out.writeBytes(bytes('.'));
    assertContains("maxNestingDepth", refused(Kind.LIMIT_EXCEEDED, out.toByteArray()));
  }

  @Test
  void exponentialSharingLoadsInLinearTime() throws Exception {
    // level k = [level k-1, level k-1]; only the top level stays on the stack.
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(bytes(0x80, 2, ']', 'q', 0));
    for (int level = 1; level <= 200; level++) {
      out.writeBytes(bytes('0', ']', '('));
      out.writeBytes(bytes('j'));
      out.writeBytes(le32(level - 1));
      out.writeBytes(bytes('j'));
      out.writeBytes(le32(level - 1));
      out.writeBytes(bytes('e', 'r'));
      out.writeBytes(le32(level));
    }
    out.writeBytes(bytes('.'));
    Object value = assertTimeoutPreemptively(QUICKLY,
        () -> PickleReader.load(out.toByteArray(), PickleOptions.defaults()));
    List<?> top = assertInstanceOf(List.class, value);
    assertTrue(top.get(0) == top.get(1), "shared, not copied");
  }

  @Test
  void elementLimitStopsListBombs() {
    PickleOptions options = PickleOptions.builder().where("bomb.pkl")
        .limits(PickleLimits.builder().maxElements(10_000).build()).build();
    // A list, memoized, then 20000 x (BINGET 0 APPEND) onto a second list.
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(bytes(0x80, 2, ']', 'q', 0, ']'));
    for (int i = 0; i < 20_000; i++) {
      out.writeBytes(bytes('h', 0, 'a'));
    }
    out.writeBytes(bytes('.'));
    assertContains("maxElements", refused(Kind.LIMIT_EXCEEDED, out.toByteArray(), options));
  }

  @Test
  void memoIndicesAreBounded() {
    assertContains("maxMemoEntries",
        refused(Kind.LIMIT_EXCEEDED,
            concat(bytes(0x80, 2, 'N', 'r'), le32(0xfffffff0), bytes('.'))));
    PickleOptions small = PickleOptions.builder().where("memo.pkl")
        .limits(PickleLimits.builder().maxMemoEntries(100).build()).build();
    assertContains("maxMemoEntries",
        refused(Kind.LIMIT_EXCEEDED, bytes(0x80, 2, 'N', 'q', 100, '.'), small));
  }

  @Test
  void missingMemoKeyIsRefused() {
    assertContains("memo key 3 was never stored",
        refused(Kind.MALFORMED_PICKLE, bytes(0x80, 2, 'h', 3, '.')));
    assertContains("memo key 77 was never stored",
        refused(Kind.MALFORMED_PICKLE, concat(bytes(0x80, 2, 'j'), le32(77), bytes('.'))));
    assertContains("memo key 5 was never stored",
        refused(Kind.MALFORMED_PICKLE, "g5\n.".getBytes()));
  }

  @Test
  void badUtf8IsRefused() {
    assertContains("invalid UTF-8",
        refused(Kind.MALFORMED_PICKLE, bytes(0x80, 4, 0x8c, 2, 0xc3, 0x28, '.')));
    // A surrogate cut short, then an overlong NUL.
    assertContains("invalid UTF-8",
        refused(Kind.MALFORMED_PICKLE, bytes(0x80, 4, 0x8c, 3, 0xed, 0xa0, '.', '.')));
    assertContains("invalid UTF-8",
        refused(Kind.MALFORMED_PICKLE, bytes(0x80, 4, 0x8c, 2, 0xc0, 0x80, '.')));
    assertContains("not valid UTF-8",
        refused(Kind.MALFORMED_PICKLE, bytes('c', 'm', 'o', 'd', '\n', 0xf8, '\n', '.')));
  }

  @Test
  void stopMustLeaveExactlyOneValue() {
    assertContains("exactly one",
        refused(Kind.MALFORMED_PICKLE, bytes(0x80, 2, 'K', 1, 'K', 2, '.')));
    assertContains("exactly one", refused(Kind.MALFORMED_PICKLE, bytes(0x80, 2, '.')));
  }

  @Test
  void unsupportedOpcodesAreRefused() {
    assertContains("extension code 1",
        refused(Kind.UNSUPPORTED_FORMAT, bytes(0x80, 2, 0x82, 1, '.')));
    assertContains("extension code 258",
        refused(Kind.UNSUPPORTED_FORMAT, bytes(0x80, 2, 0x83, 2, 1, '.')));
    assertContains("extension code",
        refused(Kind.UNSUPPORTED_FORMAT, concat(bytes(0x80, 2, 0x84), le32(9), bytes('.'))));
    assertContains("out-of-band", refused(Kind.UNSUPPORTED_FORMAT, bytes(0x80, 5, 0x98, '.')));
    CheckpointException e = refused(Kind.MALFORMED_PICKLE, bytes(0x80, 2, 'N', 0xa7, '.'));
    assertContains("unknown opcode 0xa7", e);
    assertContains("at byte 3", e);
  }

  @Test
  void garbageIsRefused() {
    // A PNG signature: NEWFALSE, then PERSID with no loader.
    assertContains("PERSID at byte 1",
        refused(Kind.WRONG_LOADER, bytes(0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n')));
    assertContains("unknown opcode 0x00", refused(Kind.MALFORMED_PICKLE, bytes(0, 0, 0, 0)));
    assertContains("truncated", refused(Kind.TRUNCATED, new byte[0]));
  }
}
