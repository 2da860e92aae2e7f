package io.ckpt4j.cli;

import static io.ckpt4j.models.ResNetCases.LOGITS_TOLERANCE;
import static io.ckpt4j.models.ResNetCases.logits;
import static io.ckpt4j.models.ResNetCases.maxAbsDiff;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.models.ResNet;
import io.ckpt4j.models.ResNetCases;
import io.ckpt4j.models.ResNetCases.Case;
import io.ckpt4j.models.ResNetCases.Io;
import java.util.List;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code ckpt4j run --arch --weights}'s loader against tests/python/make_resnet.py: it builds the
 * file's architecture (num_classes and width read from the weights), strips a DataParallel
 * prefix, and gives Python's logits; wrong files are one-line errors.
 */
class ResNetWeightsTest {
  static List<Case> cases() {
    return ResNetCases.all();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void loadBuildsTheFilesArchitectureAndLoadsIt(Case c) throws CheckpointException {
    try (ResNet model = ResNetWeights.load(c.arch(), c.weights(), "cpu"); Io io = new Io(c)) {
      assertEquals(c.numClasses(), model.numClasses());
      assertEquals(c.width(), model.width());
      model.eval();
      try (Tensor logits = logits(model, io.get("input"))) {
        assertTrue(maxAbsDiff(logits, io.get("logits")) <= LOGITS_TOLERANCE);
      }
    }
  }

  @Test
  void loadStripsTheModulePrefixOfADataParallelFile() throws CheckpointException {
    Case c = ResNetCases.named("resnet18");
    try (ResNet model = ResNetWeights.load(c.arch(), c.dataParallel(), "cpu"); Io io = new Io(c)) {
      model.eval();
      try (Tensor logits = logits(model, io.get("input"))) {
        double diff = maxAbsDiff(logits, io.get("logits"));
        System.out.printf("%s: DataParallel file, eval logits max abs diff %.3g%n", c, diff);
        assertTrue(diff <= LOGITS_TOLERANCE, "logits differ by " + diff);
      }
    }
  }

  @Test
  void theWrongOrAnUnknownArchitectureIsAOneLineError() {
    Case c = ResNetCases.named("resnet18");
    // resnet34 has a third block in layer1, which resnet18's file lacks.
    assertOneLineError("resnet34", c, "layer1.2.conv1.weight");
    // An unknown name lists the known ones.
    assertOneLineError("resnet19", c, "resnet152");
  }

  private static void assertOneLineError(String arch, Case c, String expectedPart) {
    CheckpointException e = assertThrows(CheckpointException.class,
        () -> ResNetWeights.load(arch, c.weights(), "cpu").close());
    assertTrue(e.getMessage().contains(expectedPart), e.getMessage());
    assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
  }
}
