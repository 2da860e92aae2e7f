package io.ckpt4j.aoti;

import static io.ckpt4j.Refusals.assertRefused;
import static io.ckpt4j.aoti.AotiFixtures.assertClose;
import static io.ckpt4j.aoti.AotiFixtures.closeAll;
import static io.ckpt4j.aoti.AotiFixtures.manifest;
import static io.ckpt4j.aoti.AotiFixtures.pkg;
import static io.ckpt4j.aoti.ExportedModelTest.assertMentions;
import static io.ckpt4j.aoti.ExportedModelTest.texts;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.statedict.IncompatibleKeys;
import io.ckpt4j.statedict.StateDict;
import java.util.List;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * New weights for a compiled package from state_dicts Python saved (.pt, .safetensors, and
 * DataParallel's module.-prefixed keys): the outputs equal aoti_load_package's after
 * load_constants with the same weights.
 */
class WeightSwapTest {
  @Test
  void swappedWeightsGivePythonsOutputs() throws Exception {
    JsonNode swap = manifest().get("swap");
    List<String> unused = texts(swap.get("unused_keys"));
    for (JsonNode file : swap.get("files")) {
      try (ExportedModel model = ExportedModel.load(pkg("cnn"), AotiOptions.defaults());
          AotiFixtures.Case c = AotiFixtures.read(swap.get("case").asText());
          StateDict sd = stateDict(file.asText())) {
        List<Tensor> before = model.forward(c.inputs());
        assertOutputsDiffer(c.outputs(), before, file.asText());
        closeAll(before);
        if (!unused.isEmpty()) {
          // strict, like load_state_dict(strict=True): keys the compiled graph never reads.
          CheckpointException e = assertRefused(Kind.STATE_DICT_MISMATCH,
              () -> model.loadStateDict(sd, true));
          assertMentions(e, "unexpected_keys", unused.get(0), "strict=false");
        }
        IncompatibleKeys keys = model.loadStateDict(sd, false); // the hint applied
        assertEquals(unused, keys.unexpectedKeys().stream().sorted().toList(), file.asText());
        assertTrue(keys.missingKeys().isEmpty(), keys.toString());
        List<Tensor> after = model.forward(c.inputs());
        assertClose(c.outputs(), after, "after swapping in " + file.asText());
        closeAll(after);
      }
    }
  }

  @Test
  void aStrictLoadOfExactlyTheConstantsSucceeds() throws Exception {
    JsonNode swap = manifest().get("swap");
    try (ExportedModel model = ExportedModel.load(pkg("cnn"), AotiOptions.defaults());
        AotiFixtures.Case c = AotiFixtures.read(swap.get("case").asText());
        StateDict sd = stateDict("swap.pt");
        StateDict used = sd.filter(k -> !texts(swap.get("unused_keys")).contains(k))) {
      assertTrue(model.loadStateDict(used, true).isEmpty());
      List<Tensor> after = model.forward(c.inputs());
      assertClose(c.outputs(), after, "strict swap");
      closeAll(after);
    }
  }

  @Test
  void keysShapesAndDtypesThatDoNotFitAreRefused() throws Exception {
    try (ExportedModel model = ExportedModel.load(pkg("cnn"), AotiOptions.defaults());
        StateDict sd = stateDict("swap.pt")) {
      try (StateDict partial = sd.filter(k -> !k.equals("fc.weight"))) {
        assertMentions(assertRefused(Kind.STATE_DICT_MISMATCH,
            () -> model.loadStateDict(partial, true)), "missing_keys", "fc.weight",
            "strict=false");
        // The hint applied: the package keeps its own fc.weight.
        assertEquals(List.of("fc.weight"), model.loadStateDict(partial, false).missingKeys());
      }
      try (StateDict wrong = sd.filter(k -> true);
          Tensor bigger = torch.zeros(11, 8)) {
        wrong.put("fc.weight", bigger);
        assertMentions(assertRefused(Kind.STATE_DICT_MISMATCH,
            () -> model.loadStateDict(wrong, false)), "size mismatch", "fc.weight", "[11, 8]",
            "[10, 8]");
      }
      try (StateDict doubles = sd.cast(io.ckpt4j.value.DType.FLOAT64)) {
        assertMentions(assertRefused(Kind.STATE_DICT_MISMATCH,
            () -> model.loadStateDict(doubles, false)), "dtype mismatch", "float64", "float32");
        try (StateDict back = doubles.cast(io.ckpt4j.value.DType.FLOAT32)) {
          model.loadStateDict(back, false); // the hint applied: StateDict.cast
        }
      }
    }
  }

  @Test
  void aPackageThatFoldedItsWeightsIntoTheCodeIsRefused() throws Exception {
    try (ExportedModel model = ExportedModel.load(pkg("dynamic"), AotiOptions.defaults());
        StateDict sd = stateDict("swap.pt")) {
      assertMentions(assertRefused(Kind.UNSUPPORTED_FORMAT, () -> model.loadStateDict(sd, false)),
          "use_runtime_constant_folding");
    }
    // The hint applied: cnn.pt2 was compiled with that config, and takes the weights.
    assertTrue(manifest().get("packages").get("cnn").get("inductor_configs")
        .get("aot_inductor.use_runtime_constant_folding").asBoolean());
  }

  private static StateDict stateDict(String file) throws CheckpointException {
    try (LoadedCheckpoint ckpt = CheckpointLoader.load(AotiFixtures.file(file),
        LoadOptions.defaults())) {
      return StateDict.from(ckpt);
    }
  }

  private static void assertOutputsDiffer(List<Tensor> a, List<Tensor> b, String what) {
    boolean differ = false;
    for (int i = 0; i < a.size(); i++) differ |= !torch.allclose(a.get(i), b.get(i));
    assertTrue(differ, what + ": the package's own weights already give the swapped outputs");
  }
}
