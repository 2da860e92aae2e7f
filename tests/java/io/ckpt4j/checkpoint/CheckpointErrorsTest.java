package io.ckpt4j.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.Refusals;
import io.ckpt4j.checkpoint.optim.Adam;
import io.ckpt4j.checkpoint.optim.AdamW;
import io.ckpt4j.checkpoint.optim.OptimizerStateDict;
import io.ckpt4j.checkpoint.optim.ParamGroup;
import io.ckpt4j.checkpoint.optim.SGD;
import io.ckpt4j.checkpoint.sched.ExponentialLR;
import io.ckpt4j.checkpoint.sched.LambdaLR;
import io.ckpt4j.checkpoint.sched.SequentialLR;
import io.ckpt4j.checkpoint.sched.StepLR;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.save.TorchSaver;
import io.ckpt4j.value.TensorRef;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What does not fit fails with one line that says what, where and what to do: an optimizer state
 * dict for other param groups, other group sizes, other shapes, without the state an update
 * needs, with values of the wrong type; a scheduler state dict with a wrong type; a file that is
 * no training checkpoint; a Namespace not allowed.
 * The Python checkpoints are the generator's (Adam with two groups, SGD with momentum).
 */
class CheckpointErrorsTest {
  private static final String TWO_GROUPS = "adamw_cosine_groups";
  private static final String SGD_CASE = "sgd_momentum_steplr";

  private static Path ckpt(String name) {
    return TrainingFixtures.root().resolve(name).resolve("ckpt.pt");
  }

  private static void assertOneLine(Exception e, String... parts) {
    String m = e.getMessage();
    assertFalse(m.contains("\n"), "one line: " + m);
    for (String part : parts) assertTrue(m.contains(part), "'" + part + "' in: " + m);
  }

  /** The optimizer tree of a case's ckpt.pt, changed by {@code edit}, made a state dict. */
  private static OptimizerStateDict edited(LoadedCheckpoint loaded,
      java.util.function.Consumer<Map<Object, Object>> edit) throws CheckpointException {
    @SuppressWarnings("unchecked")
    Map<Object, Object> optimizer = (Map<Object, Object>) deepCopy(((Map<?, ?>) loaded.root())
        .get("optimizer"));
    edit.accept(optimizer);
    return OptimizerStateDict.fromTree(optimizer, loaded);
  }

  private static Object deepCopy(Object v) {
    if (v instanceof Map<?, ?> m) {
      Map<Object, Object> out = new LinkedHashMap<>();
      m.forEach((k, x) -> out.put(k, deepCopy(x)));
      return out;
    }
    if (v instanceof List<?> l && !(v instanceof io.ckpt4j.value.PyTuple)) {
      List<Object> out = new ArrayList<>();
      l.forEach(x -> out.add(deepCopy(x)));
      return out;
    }
    return v;
  }

  @Test
  void aStateDictForOtherParamGroupsIsRefused() throws Exception {
    try (SmallNet net = new SmallNet();
        AdamW opt = new AdamW(List.of(ParamGroup.of(net.parameters())), AdamW.options());
        Checkpoint ckpt = Checkpoint.load(ckpt(TWO_GROUPS), TrainingFixtures.LOAD)) {
      CheckpointException e = Refusals.assertRefused(Kind.STATE_DICT_MISMATCH,
          () -> opt.loadStateDict(ckpt.optimizer()));
      assertOneLine(e, "2 param groups", "this AdamW has 1",
          "build the optimizer with the same param groups as the run that saved it");
      // The hint, applied: the optimizer of the run's spec, over its two groups, takes it.
      try (TrainingRun run = new TrainingRun(
          TrainingRun.spec(TrainingFixtures.root().resolve(TWO_GROUPS)))) {
        run.optimizer.loadStateDict(ckpt.optimizer());
        assertEquals(2, run.optimizer.paramGroups().size());
      }
    }
  }

  @Test
  void aGroupOfAnotherSizeIsRefused() throws Exception {
    try (SmallNet net = new SmallNet();
        Checkpoint ckpt = Checkpoint.load(ckpt(SGD_CASE), TrainingFixtures.LOAD)) {
      List<Tensor> fewer = new ArrayList<>(net.parameterList());
      fewer.remove(0);
      try (SGD opt = new SGD(List.of(ParamGroup.of(fewer)), SGD.options().momentum(0.5))) {
        CheckpointException e = Refusals.assertRefused(Kind.STATE_DICT_MISMATCH,
            () -> opt.loadStateDict(ckpt.optimizer()));
        assertOneLine(e, "param group 0", "has " + (fewer.size() + 1) + " parameters",
            "has " + fewer.size(), "build it over the same parameters, in Python's"
                + " model.parameters() order");
      }
      // The hint, applied: over every parameter, in model.parameters() order, it loads.
      try (SGD opt = new SGD(List.of(ParamGroup.of(net.parameterList())),
          SGD.options().momentum(0.5))) {
        opt.loadStateDict(ckpt.optimizer());
      }
    }
  }

  @Test
  void parametersInAnotherOrderAreRefusedByShape() throws Exception {
    try (SmallNet net = new SmallNet();
        Checkpoint ckpt = Checkpoint.load(ckpt(SGD_CASE), TrainingFixtures.LOAD)) {
      List<Tensor> reversed = new ArrayList<>(net.parameterList());
      Collections.reverse(reversed);
      try (SGD opt = new SGD(List.of(ParamGroup.of(reversed)), SGD.options().momentum(0.9))) {
        CheckpointException e = Refusals.assertRefused(Kind.STATE_DICT_MISMATCH,
            () -> opt.loadStateDict(ckpt.optimizer()));
        assertOneLine(e, "'momentum_buffer' of parameter 0", "has shape", "another model");
      }
    }
  }

  @Test
  void stateTheUpdateNeedsMustBeThere() throws Exception {
    try (SmallNet net = new SmallNet();
        LoadedCheckpoint loaded = CheckpointLoader.load(ckpt("adam_amsgrad_onecycle"),
            TrainingFixtures.LOAD);
        Adam opt = new Adam(List.of(ParamGroup.of(net.parameters())),
            Adam.options().amsgrad(true));
        OptimizerStateDict broken = edited(loaded, o -> ((Map<?, ?>) ((Map<?, ?>) o.get("state"))
            .get(2L)).remove("max_exp_avg_sq"))) {
      CheckpointException e = Refusals.assertRefused(Kind.STATE_DICT_MISMATCH,
          () -> opt.loadStateDict(broken));
      assertOneLine(e, "parameter 2", "'max_exp_avg_sq'", "torch.optim.Adam");
    }
  }

  @Test
  void hyperParametersOfTheWrongTypeAreNamed() throws Exception {
    try (SmallNet net = new SmallNet();
        LoadedCheckpoint loaded = CheckpointLoader.load(ckpt(SGD_CASE), TrainingFixtures.LOAD);
        SGD opt = new SGD(List.of(ParamGroup.of(net.parameters())), SGD.options());
        OptimizerStateDict broken = edited(loaded, o -> {
          @SuppressWarnings("unchecked")
          Map<Object, Object> group =
              (Map<Object, Object>) ((List<?>) o.get("param_groups")).get(0);
          group.put("lr", "0.1");
        })) {
      double before = opt.paramGroups().get(0).lr();
      CheckpointException e = Refusals.assertRefused(Kind.INVALID_VALUE,
          () -> opt.loadStateDict(broken));
      assertOneLine(e, "param group 0", "'lr' must be a number, not str");
      assertEquals(before, opt.paramGroups().get(0).lr(), "a refused state dict changes nothing");
    }
  }

  @Test
  void aSchedulerStateOfTheWrongTypeIsNamed() throws Exception {
    try (SmallNet net = new SmallNet();
        SGD opt = new SGD(List.of(ParamGroup.of(net.parameters())), SGD.options());
        Checkpoint ckpt = Checkpoint.load(ckpt(SGD_CASE), TrainingFixtures.LOAD)) {
      StepLR sched = new StepLR(opt, 1, StepLR.DEFAULT_GAMMA);
      Map<String, Object> state = new LinkedHashMap<>(ckpt.lrScheduler());
      state.put("step_size", 2.5);
      CheckpointException e = Refusals.assertRefused(Kind.INVALID_VALUE,
          () -> sched.loadStateDict(state));
      assertOneLine(e, "StepLR state_dict 'step_size' must be an int, not float");
    }
  }

  @Test
  void aSchedulerStateForOtherGroupsOrSchedulersIsRefusedAndTheHintWorks() throws Exception {
    try (SmallNet net = new SmallNet()) {
      List<Tensor> params = net.parameterList();
      List<ParamGroup> two = List.of(ParamGroup.of(params.subList(0, 1)),
          ParamGroup.of(params.subList(1, params.size())));
      try (SGD twoGroups = new SGD(two, SGD.options());
          SGD oneGroup = new SGD(List.of(ParamGroup.of(params)), SGD.options());
          SGD twoAgain = new SGD(two, SGD.options())) {
        Map<String, Object> saved = new LambdaLR(twoGroups, epoch -> 0.5).stateDict();
        CheckpointException e = Refusals.assertRefused(Kind.STATE_DICT_MISMATCH,
            () -> new LambdaLR(oneGroup, epoch -> 0.5).loadStateDict(saved));
        assertOneLine(e, "2 lr_lambdas for 1 param groups",
            "build the scheduler over the same param groups");
        new LambdaLR(twoAgain, epoch -> 0.5).loadStateDict(saved); // the hint, applied

        Map<String, Object> sequential = new SequentialLR(twoGroups,
            List.of(new StepLR(twoGroups, 2, 0.5), new ExponentialLR(twoGroups, 0.9)),
            List.of(3L)).stateDict();
        SequentialLR three = new SequentialLR(twoAgain, List.of(new StepLR(twoAgain, 2, 0.5),
            new ExponentialLR(twoAgain, 0.9), new StepLR(twoAgain, 1, 0.1)), List.of(3L, 5L));
        e = Refusals.assertRefused(Kind.STATE_DICT_MISMATCH,
            () -> three.loadStateDict(sequential));
        assertOneLine(e, "2 schedulers but this SequentialLR has 3",
            "build it with the same schedulers");
        new SequentialLR(twoAgain, List.of(new StepLR(twoAgain, 2, 0.5),
            new ExponentialLR(twoAgain, 0.9)), List.of(3L)).loadStateDict(sequential);
      }
    }
  }

  @Test
  void aFileThatIsNoTrainingCheckpointIsRefused(@TempDir Path dir) throws Exception {
    Path bare = dir.resolve("bare.pt");
    try (Tensor t = torch.zeros(3)) {
      TorchSaver.save(bare, t);
    }
    CheckpointException e = Refusals.assertRefused(Kind.WRONG_LOADER,
        () -> Checkpoint.load(bare, LoadOptions.defaults()));
    assertOneLine(e, "holds Tensor, not a dict", "read any checkpoint with CheckpointLoader.load");
    // The hint, applied: the generic reader reads it.
    try (LoadedCheckpoint loaded = CheckpointLoader.load(bare, LoadOptions.defaults())) {
      assertInstanceOf(TensorRef.class, loaded.root());
    }
  }

  @Test
  void aNamespaceNeedsTheCallersConsent() {
    CheckpointException e = Refusals.assertRefused(Kind.REFUSED_GLOBAL,
        () -> Checkpoint.load(ckpt("sgd_namespace_args"), LoadOptions.defaults()));
    assertOneLine(e, "argparse.Namespace");
  }
}
