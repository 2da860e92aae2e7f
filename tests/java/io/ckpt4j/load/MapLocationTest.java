package io.ckpt4j.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.Refusals;
import io.ckpt4j.TestData;
import io.ckpt4j.tensor.MapLocation;
import io.ckpt4j.value.TensorRef;
import java.nio.file.Path;
import java.util.Map;
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
  void theCliFormParses() {
    assertEquals("cpu", MapLocation.parse("cuda:1=cpu,cuda:2=cuda:0").map("cuda:1"));
    assertEquals("cuda:0", MapLocation.parse("cuda:1=cpu,cuda:2=cuda:0").map("cuda:2"));
    assertEquals("cuda:7", MapLocation.parse("cuda:1=cpu").map("cuda:7"));
    assertEquals("cpu", MapLocation.parse("cpu").map("cuda:7"));
    assertThrows(IllegalArgumentException.class, () -> MapLocation.parse("cuda:1=,x"));
  }
}
