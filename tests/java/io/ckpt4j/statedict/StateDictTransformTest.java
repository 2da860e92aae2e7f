package io.ckpt4j.statedict;

import static io.ckpt4j.statedict.StateDictFixtures.assertBitwiseEqual;
import static io.ckpt4j.statedict.StateDictFixtures.assertStateDictsEqual;
import static io.ckpt4j.statedict.StateDictFixtures.manifest;
import static io.ckpt4j.statedict.StateDictFixtures.metadataPairs;
import static io.ckpt4j.statedict.StateDictFixtures.stateDict;
import static io.ckpt4j.statedict.StateDictFixtures.strings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.Refusals;
import io.ckpt4j.tensor.TensorBytes;
import io.ckpt4j.value.DType;
import io.ckpt4j.value.PyOrderedDict;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

/** Prefixes, renames, filters, casts and moves, against the keys and tensors Python gives. */
class StateDictTransformTest {
  private static final JsonNode PREFIXES = manifest().get("prefixes");
  private static final String NET = manifest().get("net").get("file").asText();

  @Test
  void detectsEveryWrapperPrefixPythonLeaves() throws Exception {
    List<String> plain = strings(PREFIXES.get("plain_keys"));
    String[][] cases = {{"data_parallel", "module."}, {"compiled", "_orig_mod."},
        {"data_parallel_compiled", "module.", "_orig_mod."}};
    for (String[] c : cases) {
      try (StateDict sd = stateDict(PREFIXES.get(c[0]).get("file").asText())) {
        assertEquals(strings(PREFIXES.get(c[0]).get("keys")), List.copyOf(sd.keys()));
        List<String> detected = sd.detectPrefixes();
        assertEquals(List.of(c).subList(1, c.length), detected, c[0]);
        List<StateDict> chain = new ArrayList<>();
        StateDict current = sd;
        for (String prefix : detected) {
          current = current.stripPrefix(prefix);
          chain.add(current);
        }
        assertEquals(plain, List.copyOf(current.keys()), c[0]);
        assertTrue(current.detectPrefixes().isEmpty());
        chain.forEach(StateDict::close);
      }
    }
  }

  @Test
  void stripPrefixIsConsumePrefixInStateDictIfPresent() throws Exception {
    JsonNode dp = PREFIXES.get("data_parallel");
    try (StateDict sd = stateDict(dp.get("file").asText()); StateDict stripped = sd.stripPrefix()) {
      assertEquals(strings(dp.get("stripped_keys")), List.copyOf(stripped.keys()));
      assertEquals(metadataPairs(dp.get("stripped_metadata")), metadataPairs(stripped.metadata()));
      for (String key : stripped.keys()) {
        assertEquals(sd.get("module." + key).data_ptr().address(),
            stripped.get(key).data_ptr().address(), key + ": a reference, not a copy");
      }
    }
  }

  @Test
  void addPrefixGivesDataParallelsStateDict() throws Exception {
    JsonNode dp = PREFIXES.get("data_parallel");
    try (StateDict plain = stateDict(NET);
        StateDict wrapped = plain.addPrefix();
        StateDict python = stateDict(dp.get("file").asText())) {
      assertEquals(strings(dp.get("keys")), List.copyOf(wrapped.keys()));
      assertEquals(metadataPairs(dp.get("metadata")), metadataPairs(wrapped.metadata()));
      assertStateDictsEqual(python, wrapped, "addPrefix");
    }
  }

  @Test
  void derivedStateDictsOwnTheirReferences() throws Exception {
    StateDict sd = stateDict(NET);
    String hash = TensorBytes.sha256(sd.get("head.weight"));
    try (StateDict renamed = sd.rename(k -> k.replace("features.", "body."));
        StateDict kept = sd.filter(k -> !k.startsWith("features."))) {
      sd.close();
      sd.close();
      assertEquals(hash, TensorBytes.sha256(renamed.get("head.weight")));
      assertEquals(hash, TensorBytes.sha256(kept.get("head.weight")));
      List<String> expected = new ArrayList<>();
      for (String k : strings(PREFIXES.get("plain_keys"))) {
        expected.add(k.replace("features.", "body."));
      }
      assertEquals(expected, List.copyOf(renamed.keys()));
      assertEquals(List.of("step", "head.weight", "head.bias"), List.copyOf(kept.keys()));
    }
  }

  @Test
  void collisionsAreErrorsNotSilentOverwrites() throws Exception {
    try (StateDict sd = stateDict(NET)) {
      UnaryOperator<String> oneHead = k -> k.startsWith("head.") ? "head.weight" : k;
      CheckpointException e = Refusals.assertRefused(Kind.STATE_DICT_MISMATCH,
          () -> sd.rename(oneHead));
      assertTrue(e.getMessage().endsWith("turns key 'head.bias' into 'head.weight', which the"
          + " state_dict already has: remove one of them first (StateDict.filter)"),
          e.getMessage());
      // The hint, applied: without the old head.weight, head.bias takes its name.
      try (StateDict filtered = sd.filter(k -> !k.equals("head.weight"));
          StateDict renamed = filtered.rename(oneHead)) {
        assertEquals(TensorBytes.sha256(sd.get("head.bias")),
            TensorBytes.sha256(renamed.get("head.weight")));
      }
      sd.put("module.step", sd.get("step"));
      e = Refusals.assertRefused(Kind.STATE_DICT_MISMATCH, sd::stripPrefix);
      try (StateDict filtered = sd.filter(k -> !k.equals("step"));
          StateDict stripped = filtered.stripPrefix()) { // the same hint
        assertTrue(stripped.containsKey("step"), e.getMessage());
      }
    }
  }

  @Test
  void castIsWhatHalfAndToBfloat16DoToAModel() throws Exception {
    JsonNode cast = manifest().get("cast");
    try (StateDict sd = stateDict(NET);
        StateDict half = sd.cast(DType.FLOAT16);
        StateDict bf16 = sd.cast(DType.BFLOAT16);
        StateDict pythonHalf = stateDict(cast.get("float16").asText());
        StateDict pythonBf16 = stateDict(cast.get("bfloat16").asText())) {
      assertStateDictsEqual(pythonHalf, half, "half()");
      assertStateDictsEqual(pythonBf16, bf16, "to(torch.bfloat16)");
      assertEquals(sd.get("step").data_ptr().address(), half.get("step").data_ptr().address(),
          "integer buffers are not cast");
    }
    try (StateDict sd = StateDict.empty()) {
      assertThrows(IllegalArgumentException.class, () -> sd.cast(DType.INT8));
    }
  }

  @Test
  void toTheDeviceTheTensorsAreOnSharesThem() throws Exception {
    try (StateDict sd = stateDict(NET); StateDict cpu = sd.to("cpu")) {
      for (String key : sd.keys()) {
        assertEquals(sd.get(key).data_ptr().address(), cpu.get(key).data_ptr().address(), key);
      }
      // "... but CUDA is not available here: use cpu" (or: this machine has N CUDA devices).
      CheckpointException e = Refusals.assertRefused(Kind.DEVICE, () -> sd.to("cuda:4096"));
      assertTrue(e.getMessage().endsWith(": use cpu"), e.getMessage());
      e = Refusals.assertRefused(Kind.DEVICE, () -> sd.to("tpu"));
      assertTrue(e.getMessage().contains("ckpt4j places tensors on cpu, cuda or cuda:N"),
          e.getMessage());
      sd.to("cpu").close(); // the hint, applied (above: sd.to("cpu") shares the tensors)
    }
  }

  @Test
  void toPythonKeepsKeysTensorsAndMetadata() throws Exception {
    try (StateDict sd = stateDict(NET)) {
      PyOrderedDict py = sd.toPython();
      assertEquals(List.copyOf(sd.keys()), new ArrayList<>(py.keySet()));
      for (Map.Entry<Object, Object> e : py.entrySet()) {
        assertSame(sd.get((String) e.getKey()), e.getValue());
      }
      assertSame(sd.metadata(), py.attributes().get(StateDict.METADATA_ATTRIBUTE));
      assertEquals(metadataPairs(manifest().get("net").get("metadata")),
          metadataPairs(sd.metadata()));
    }
  }

  @Test
  void putTakesItsOwnReference() throws Exception {
    try (StateDict sd = StateDict.empty(); StateDict net = stateDict(NET)) {
      Tensor mine = new Tensor(net.get("head.bias"));
      sd.put("bias", mine);
      mine.close();
      assertBitwiseEqual(net.get("head.bias"), sd.get("bias"), "bias");
      sd.put("bias", net.get("head.weight"));
      assertEquals(1, sd.size());
      assertTrue(sd.remove("bias"));
      assertFalse(sd.containsKey("bias"));
      assertTrue(sd.detectPrefixes().isEmpty());
    }
  }
}
