package io.ckpt4j.statedict;

import static io.ckpt4j.statedict.StateDictFixtures.assertBitwiseEqual;
import static io.ckpt4j.statedict.StateDictFixtures.assertStateDictsEqual;
import static io.ckpt4j.statedict.StateDictFixtures.manifest;
import static io.ckpt4j.statedict.StateDictFixtures.metadataPairs;
import static io.ckpt4j.statedict.StateDictFixtures.strings;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * StateDict.of(module) gives Python's state_dict() keys, order and _metadata for the same
 * architecture built from LibTorch layers, and Python's state_dict loads into it strictly,
 * bit for bit, by copy and by assign.
 */
class ModuleStateDictTest {
  private static final String NET = manifest().get("net").get("file").asText();

  @Test
  void keysOrderAndMetadataAreTheOnesPythonGives() {
    JsonNode net = manifest().get("net");
    Module module = JavaNet.net();
    try (StateDict sd = StateDict.of(module)) {
      assertEquals(strings(net.get("keys")), List.copyOf(sd.keys()));
      for (String key : sd.keys()) {
        long[] expected = new long[net.get("shapes").get(key).size()];
        for (int i = 0; i < expected.length; i++) {
          expected[i] = net.get("shapes").get(key).get(i).asLong();
        }
        assertArrayEquals(expected, StateDictFixtures.shape(sd.get(key)), key);
        assertEquals(net.get("dtypes").get(key).asText(),
            StateDictFixtures.dtypeName(sd.get(key)), key);
        assertFalse(sd.get(key).requires_grad(), key + " is detached, as in Python");
      }
      assertEquals(metadataPairs(net.get("metadata")), metadataPairs(sd.metadata()));
    }
  }

  @Test
  void pythonsStateDictLoadsStrictlyBitForBit() throws Exception {
    Module module = JavaNet.net();
    try (StateDict python = StateDictFixtures.stateDict(NET)) {
      IncompatibleKeys keys = python.loadInto(module, LoadStateDictOptions.defaults());
      assertTrue(keys.isEmpty(), keys::toString);
      try (StateDict loaded = StateDict.of(module)) {
        assertStateDictsEqual(python, loaded, "after load_state_dict");
      }
    }
  }

  @Test
  void copyWritesIntoTheModulesOwnMemory() throws Exception {
    Module module = JavaNet.net();
    try (StateDict before = StateDict.of(module);
        StateDict python = StateDictFixtures.stateDict(NET)) {
      python.loadInto(module, LoadStateDictOptions.defaults());
      try (StateDict after = StateDict.of(module)) {
        for (String key : before.keys()) {
          assertEquals(before.get(key).data_ptr().address(), after.get(key).data_ptr().address(),
              key + ": copy_ writes into the module's own memory");
          assertTrue(python.get(key).data_ptr().address() != after.get(key).data_ptr().address(),
              key);
        }
      }
    }
  }

  @Test
  void assignTakesTheStateDictsTensorsAsPythonDoes() throws Exception {
    JsonNode assign = manifest().get("assign");
    Module module = JavaNet.net();
    try (StateDict python = StateDictFixtures.stateDict(assign.get("file").asText())) {
      IncompatibleKeys keys =
          python.loadInto(module, LoadStateDictOptions.defaults().assign(true));
      assertTrue(keys.isEmpty(), keys::toString);
      try (ModuleTree tree = ModuleTree.of(module)) {
        assertAssigned(tree, python, assign);
      }
      try (StateDict loaded = StateDict.of(module)) {
        assertStateDictsEqual(python, loaded, "after assign");
      }
    }
  }

  /** Where CUDA is present: a CPU state_dict copies into a module on cuda:0, and moves there. */
  @Test
  void loadsIntoAModuleOnCuda() throws Exception {
    assumeTrue(torch.cuda_is_available(), "no CUDA device here");
    Module module = JavaNet.net();
    try (Device cuda = new Device("cuda:0")) {
      module.to(cuda, false);
    }
    try (StateDict python = StateDictFixtures.stateDict(NET);
        StateDict onCuda = python.to("cuda:0")) {
      assertTrue(python.loadInto(module).isEmpty());
      try (StateDict loaded = StateDict.of(module); StateDict back = loaded.to("cpu")) {
        for (String key : loaded.keys()) assertTrue(loaded.get(key).is_cuda(), key);
        assertStateDictsEqual(python, back, "loaded on cuda:0");
      }
      Module assigned = JavaNet.net();
      try (Device cuda = new Device("cuda:0")) {
        assigned.to(cuda, false);
      }
      assertTrue(onCuda.loadInto(assigned,
          LoadStateDictOptions.defaults().assign(true)).isEmpty());
      try (StateDict loaded = StateDict.of(assigned); StateDict back = loaded.to("cpu")) {
        assertStateDictsEqual(python, back, "assigned on cuda:0");
      }
    }
  }

  private static void assertAssigned(ModuleTree node, StateDict python, JsonNode assign) {
    for (ModuleTree.Local local : node.locals()) {
      String key = node.prefix() + local.name();
      Tensor t = local.tensor();
      assertEquals(assign.get("is_parameter").get(key).asBoolean(), local.parameter(), key);
      assertEquals(assign.get("requires_grad").get(key).asBoolean(), t.requires_grad(), key);
      assertEquals(assign.get("shares_memory").get(key).asBoolean(),
          t.data_ptr().address() == python.get(key).data_ptr().address(), key);
      assertBitwiseEqual(python.get(key), t, key);
    }
    for (ModuleTree child : node.children()) assertAssigned(child, python, assign);
  }
}
