package io.ckpt4j.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.Refusals;
import io.ckpt4j.TestData;
import io.ckpt4j.tensor.MapLocation;
import io.ckpt4j.value.TensorRef;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * map_location in torch.load's forms, on located_mixed.pt: storages torch 2.13 saved on cpu,
 * cuda:0 and cuda:3 (tests/python checked that Python loads it with map_location="cpu" and with a
 * per-device dict, and refuses it without one on a CPU-only machine).
 */
class MapLocationTest {
  private static Path mixed() {
    return TestData.dir("corpus").resolve("located_mixed.pt");
  }

  private static void assertAllOnCpu(LoadedCheckpoint ckpt) throws CheckpointException {
    for (TensorRef ref : ckpt.tensorRefs()) {
      assertTrue(ckpt.tensor(ref).is_cpu(), ref + " should be on the CPU");
    }
  }

  @Test
  void aDeviceStringMovesEverything() throws CheckpointException {
    try (LoadedCheckpoint ckpt = CheckpointLoader.load(mixed(),
        LoadOptions.defaults().mapLocation("cpu"))) {
      assertAllOnCpu(ckpt);
      assertEquals("cpu", ckpt.targetLocation("cuda:3"));
    }
  }

  @Test
  void aDictMapsTheLocationsItNames() throws CheckpointException {
    LoadOptions options = LoadOptions.defaults()
        .mapLocation(MapLocation.remap(Map.of("cuda:0", "cpu", "cuda:3", "cpu")));
    try (LoadedCheckpoint ckpt = CheckpointLoader.load(mixed(), options)) {
      assertAllOnCpu(ckpt);
    }
  }

  @Test
  void aLocationTheDictDoesNotNameStaysAsSaved() {
    Assumptions.assumeFalse(torch.cuda_is_available(), "needs a machine without CUDA");
    CheckpointException e = Refusals.assertRefused(Kind.DEVICE, () -> CheckpointLoader.load(
        mixed(), LoadOptions.defaults().mapLocation("cuda:0=cpu")).close());
    assertTrue(e.getMessage().contains("cuda:3") && e.getMessage().contains("map_location"),
        e.getMessage());
  }

  @Test
  void aFunctionOfTheSavedLocation() throws CheckpointException {
    LoadOptions options = LoadOptions.defaults()
        .mapLocation(MapLocation.of(saved -> saved.startsWith("cuda") ? "cpu" : null));
    try (LoadedCheckpoint ckpt = CheckpointLoader.load(mixed(), options)) {
      assertAllOnCpu(ckpt);
    }
  }

  @Test
  void theMapLocationHintLoadsTheFile() throws CheckpointException {
    Assumptions.assumeFalse(torch.cuda_is_available(), "needs a machine without CUDA");
    // Without map_location each CUDA storage is refused with the hint. Applied as written, per
    // device (to cpu, the device this machine has), one device at a time: the file loads.
    Pattern perDevice =
        Pattern.compile("or, per device, LoadOptions\\.mapLocation\\(\"(cuda:\\d+)=cuda:0\"\\)$");
    List<String> mapping = new ArrayList<>();
    while (true) {
      LoadOptions options = mapping.isEmpty() ? LoadOptions.defaults()
          : LoadOptions.defaults().mapLocation(String.join(",", mapping));
      try (LoadedCheckpoint ckpt = CheckpointLoader.load(mixed(), options)) {
        assertAllOnCpu(ckpt);
        break;
      } catch (CheckpointException e) {
        assertEquals(Kind.DEVICE, e.kind(), e.getMessage());
        assertTrue(e.getMessage().contains("e.g. LoadOptions.mapLocation(\"cpu\")"), e.getMessage());
        Matcher hint = perDevice.matcher(e.getMessage());
        assertTrue(hint.find(), e.getMessage());
        assertFalse(mapping.contains(hint.group(1) + "=cpu"), "mapped already: " + e.getMessage());
        mapping.add(hint.group(1) + "=cpu");
      }
    }
    assertEquals(List.of("cuda:0=cpu", "cuda:3=cpu"), mapping.stream().sorted().toList());
  }

  @Test
  void aDeviceThatDoesNotExistIsAClearError() {
    long visible = torch.cuda_is_available() ? torch.cuda_device_count() : 0;
    CheckpointException e = Refusals.assertRefused(Kind.DEVICE, () -> CheckpointLoader.load(
        mixed(), LoadOptions.defaults().mapLocation("cuda:" + (visible + 5))).close());
    assertTrue(e.getMessage().contains("cuda:" + (visible + 5)), e.getMessage());
  }

  @Test
  void anUnknownDeviceTypeIsAClearError() {
    CheckpointException e = Refusals.assertRefused(Kind.DEVICE, () -> CheckpointLoader.load(
        mixed(), LoadOptions.defaults().mapLocation("quantum:0")).close());
    assertTrue(e.getMessage().contains("quantum:0"), e.getMessage());
  }

  @Test
  void aMalformedEntrySaysTheFormAndTheFormParses() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> MapLocation.parse("cuda:1=cpu,cuda:2"));
    assertTrue(e.getMessage().endsWith("is not FROM=TO (e.g. cuda:1=cuda:0)"), e.getMessage());
    assertEquals("cuda:0", MapLocation.parse("cuda:1=cpu,cuda:2=cuda:0").map("cuda:2"));
  }

  @Test
  void theCliFormParses() {
    assertEquals("cpu", MapLocation.parse("cuda:1=cpu,cuda:2=cuda:0").map("cuda:1"));
    assertEquals("cuda:0", MapLocation.parse("cuda:1=cpu,cuda:2=cuda:0").map("cuda:2"));
    assertEquals("cuda:7", MapLocation.parse("cuda:1=cpu").map("cuda:7"));
    assertEquals("cpu", MapLocation.parse("cpu").map("cuda:7"));
    assertThrows(IllegalArgumentException.class, () -> MapLocation.parse("cuda:1=,x"));
  }
}
