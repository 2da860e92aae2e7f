package io.ckpt4j.load;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.TestData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Real torch 2.13 files, cut short at many offsets and with single bytes flipped: each load ends
 * in a result or in ONE CheckpointException of a kind that says so — never another exception, a
 * crash or a hang.
 */
class DamagedFilesTest {
  private static final int TRUNCATIONS = 80;
  private static final int FLIPS = 300;
  /** A cut file: too short to tell what it was, or cut off. */
  private static final Set<Kind> CUT = EnumSet.of(Kind.TRUNCATED, Kind.NOT_A_CHECKPOINT);
  /**
   * What one flipped byte can make of a file: damage to any of its layers, or a different but
   * well-formed request ckpt4j refuses (a global's name, a storage's device, a feature flag).
   */
  private static final Set<Kind> FLIPPED = EnumSet.of(Kind.TRUNCATED, Kind.NOT_A_CHECKPOINT,
      Kind.MALFORMED_CONTAINER, Kind.MALFORMED_PICKLE, Kind.INVALID_TENSOR, Kind.LIMIT_EXCEEDED,
      Kind.UNSUPPORTED_FORMAT, Kind.REFUSED_GLOBAL, Kind.DEVICE);

  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(strings = {"state_dict_small.pt", "legacy_state_dict.pt", "tensors_views.pt",
      "legacy_views_shared.pt", "protocol_5.pt", "safetensors_mixed.safetensors"})
  void truncatedAnywhere(String name) throws Exception {
    byte[] bytes = Files.readAllBytes(TestData.dir("corpus").resolve(name));
    Path f = dir.resolve("cut-" + name);
    int refused = 0;
    for (int i = 0; i < TRUNCATIONS; i++) {
      int length = (int) ((long) bytes.length * i / TRUNCATIONS);
      Files.write(f, java.util.Arrays.copyOf(bytes, length));
      refused += loadOrRefuse(f, CUT, name + " cut at " + length) ? 0 : 1;
    }
    assertTrue(refused > TRUNCATIONS / 2, name + ": only " + refused + " truncations refused");
  }

  @ParameterizedTest
  @ValueSource(strings = {"state_dict_small.pt", "legacy_state_dict.pt", "nested_values.pt",
      "safetensors_mixed.safetensors"})
  void oneByteFlipped(String name) throws Exception {
    byte[] bytes = Files.readAllBytes(TestData.dir("corpus").resolve(name));
    Path f = dir.resolve("flip-" + name);
    Random random = new Random(name.hashCode());
    for (int i = 0; i < FLIPS; i++) {
      byte[] copy = bytes.clone();
      int at = random.nextInt(copy.length);
      copy[at] ^= (byte) (1 + random.nextInt(255));
      Files.write(f, copy);
      loadOrRefuse(f, FLIPPED, name + " with byte " + at + " flipped");
    }
  }

  /**
   * True when the file loaded (every tensor built); false when refused with one clear line of one
   * of the {@code accepted} kinds.
   */
  private static boolean loadOrRefuse(Path f, Set<Kind> accepted, String what) {
    for (boolean mmap : new boolean[] {false, true}) {
      try {
        CraftedFilesTest.loadAll(f, LoadOptions.defaults().mapLocation("cpu").mmap(mmap));
      } catch (CheckpointException e) {
        if (e.getMessage() == null || e.getMessage().contains("\n")) {
          fail(what + ": the error is not one line: " + e.getMessage());
        }
        if (!accepted.contains(e.kind())) {
          fail(what + ": kind " + e.kind() + " is not one of " + accepted + ": " + e.getMessage());
        }
        return false;
      } catch (RuntimeException | Error e) {
        throw new AssertionError(what + ": " + e, e);
      }
    }
    return true;
  }
}
