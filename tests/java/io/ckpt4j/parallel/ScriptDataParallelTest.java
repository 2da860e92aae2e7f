package io.ckpt4j.parallel;

import static io.ckpt4j.parallel.DataParallelTest.assertOneLine;
import static io.ckpt4j.parallel.DataParallelTest.cpus;
import static io.ckpt4j.parallel.ParallelFixtures.assertClose;
import static io.ckpt4j.parallel.ParallelFixtures.atol;
import static io.ckpt4j.parallel.ParallelFixtures.io;
import static io.ckpt4j.parallel.ParallelFixtures.rows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.Refusals;
import io.ckpt4j.libtorch.ScriptModel;
import io.ckpt4j.libtorch.TorchScript;
import io.ckpt4j.statedict.StateDict;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.JitModule;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.StringTensorDict;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * DataParallel over TorchScript (the native path: replicas and forwards in C++ on std::threads),
 * with make_parallel.py's model scripted by torch.jit.script.
 */
class ScriptDataParallelTest {
  private static final long[] BATCHES = {1, 2, 5, 7};

  private static ScriptModel load() throws CheckpointException {
    return TorchScript.load(ParallelFixtures.dir().resolve("model_script.pt"), "cpu");
  }

  @ParameterizedTest(name = "{0} CPU replica(s)")
  @ValueSource(ints = {1, 2, 3})
  void outputsAreThoseOfPython(int k) throws Exception {
    try (ScriptModel model = load();
        DataParallel<ScriptModel> dp = DataParallel.ofScript(model, cpus(k));
        NoGradGuard noGrad = new NoGradGuard()) {
      assertSame(model, dp.module());
      for (long n : BATCHES) {
        try (Tensor y = dp.forward(rows(io("input"), n))) {
          assertClose(rows(io("output"), n), y, atol(), k + " replicas, " + n + " rows");
        }
      }
    }
  }

  @Test
  void stateDictKeysAreThoseOfPythonsDataParallel() throws Exception {
    List<String> expected = ParallelFixtures.strings("data_parallel_keys");
    try (ScriptModel model = load();
        DataParallel<ScriptModel> dp = DataParallel.ofScript(model, cpus(2));
        StateDict sd = StateDict.of(dp)) {
      assertEquals(expected, List.copyOf(sd.keys()), "ScriptModel");
    }
    try (ScriptModel model = load();
        DataParallel<JitModule> dp = DataParallel.ofScript(model.jitModule(), cpus(2));
        StateDict sd = StateDict.of(dp);
        StateDict plain = StateDict.of(model.module())) {
      assertSame(model.jitModule(), dp.module());
      assertEquals(expected, List.copyOf(sd.keys()), "JitModule (native mirror)");
      for (String key : plain.keys()) {
        Tensor python = ParallelFixtures.tensors("weights.safetensors").get(key);
        assertTrue(torch.equal(python, sd.get(StateDict.DATA_PARALLEL_PREFIX + key)), key);
      }
    }
  }

  @Test
  void trainReachesTheScriptModuleAndTrainingModeMatchesPython() throws Exception {
    int k = (int) ParallelFixtures.manifest().get("train_replicas").asLong();
    try (ScriptModel model = load();
        DataParallel<JitModule> dp = DataParallel.ofScript(model.jitModule(), cpus(k));
        NoGradGuard noGrad = new NoGradGuard()) {
      dp.train(true);
      assertTrue(model.isTraining());
      try (Tensor y = dp.forward(io("input"))) {
        assertClose(io("train.output"), y, atol(), "training-mode output");
      }
      // Replica 0 computes with the module's own buffers: its updates are the module's.
      try (StringTensorDict buffers = dp.named_buffers(true)) {
        for (String name : ParallelFixtures.strings("buffers")) {
          assertClose(io("train." + name), buffers.get(DataParallel.MODULE_NAME + "." + name),
              atol(), name);
        }
      }
      dp.eval();
      assertFalse(model.isTraining());
    }
  }

  @Test
  void gradientsReachTheScriptModulesParameters() throws Exception {
    try (ScriptModel model = load();
        DataParallel<JitModule> dp = DataParallel.ofScript(model.jitModule(), cpus(3));
        PointerScope scope = new PointerScope()) {
      Tensor x = io("input").clone().requires_grad_(true);
      dp.forward(x).mul(io("loss_weight")).sum().backward();
      // The mirror holds the script module's own parameter tensors.
      try (StringTensorDict params = dp.named_parameters(true)) {
        for (String name : ParallelFixtures.strings("parameters")) {
          Tensor grad = params.get(DataParallel.MODULE_NAME + "." + name).grad();
          assertTrue(grad.defined(), name);
          assertClose(io("grad." + name), grad, atol(), "grad of " + name);
        }
      }
      assertClose(io("grad.input"), x.grad(), atol(), "grad of the input");
    }
  }

  @Test
  void inferenceModeOfTheCallerHoldsOnEveryReplicaThread() throws Exception {
    try (ScriptModel model = load();
        DataParallel<ScriptModel> dp = DataParallel.ofScript(model, cpus(3));
        InferenceMode inference = new InferenceMode();
        Tensor y = dp.forward(io("input"))) {
      assertTrue(y.is_inference(), "computed in inference mode");
      assertClose(io("output"), y, atol(), "output");
    }
  }

  @Test
  void aFailingReplicaIsOneLineWithTorchScriptsReason() throws Exception {
    try (ScriptModel model = load();
        DataParallel<ScriptModel> dp = DataParallel.ofScript(model, cpus(2));
        NoGradGuard noGrad = new NoGradGuard();
        Tensor wrongChannels = torch.randn(4, 2, SmallNet.SIDE, SmallNet.SIDE)) {
      CheckpointException e = Refusals.assertRefused(Kind.NATIVE,
          () -> dp.forward(wrongChannels));
      assertOneLine(e.getMessage(), "replica 0 on cpu failed: ");
      assertTrue(e.getMessage().contains("channels"), e.getMessage());
    }
  }
}
