package io.ckpt4j.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ckpt4j.CheckpointException;
import io.ckpt4j.checkpoint.optim.Adagrad;
import io.ckpt4j.checkpoint.optim.Adam;
import io.ckpt4j.checkpoint.optim.AdamW;
import io.ckpt4j.checkpoint.optim.Optimizer;
import io.ckpt4j.checkpoint.optim.ParamGroup;
import io.ckpt4j.checkpoint.optim.RMSprop;
import io.ckpt4j.checkpoint.optim.SGD;
import io.ckpt4j.checkpoint.sched.ConstantLR;
import io.ckpt4j.checkpoint.sched.CosineAnnealingLR;
import io.ckpt4j.checkpoint.sched.ExponentialLR;
import io.ckpt4j.checkpoint.sched.LRScheduler;
import io.ckpt4j.checkpoint.sched.LambdaLR;
import io.ckpt4j.checkpoint.sched.LinearLR;
import io.ckpt4j.checkpoint.sched.MultiStepLR;
import io.ckpt4j.checkpoint.sched.MultiplicativeLR;
import io.ckpt4j.checkpoint.sched.OneCycleLR;
import io.ckpt4j.checkpoint.sched.PolynomialLR;
import io.ckpt4j.checkpoint.sched.ReduceLROnPlateau;
import io.ckpt4j.checkpoint.sched.SequentialLR;
import io.ckpt4j.checkpoint.sched.StepLR;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.value.TensorRef;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.LongToDoubleFunction;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.StringTensorDict;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * One training case of tests/python/make_training.py in Java: the model, the optimizer and the
 * scheduler its spec.json describes, and the training step Python takes (zero_grad,
 * cross_entropy, backward, optimizer.step, scheduler.step — with the loss for
 * ReduceLROnPlateau). Every hyper-parameter comes from the spec; the defaults a spec leaves out are
 * the API's, which are Python's.
 */
final class TrainingRun implements AutoCloseable {
  static final ObjectMapper JSON = new ObjectMapper();

  final JsonNode spec;
  final SmallNet net = new SmallNet();
  final Optimizer optimizer;
  final LRScheduler scheduler;
  final List<Double> losses = new ArrayList<>();
  final List<List<Double>> lrs = new ArrayList<>();

  TrainingRun(JsonNode spec) {
    this.spec = spec;
    List<ParamGroup> groups = paramGroups(spec.get("param_groups"));
    this.optimizer = optimizer(spec.get("optimizer"), groups);
    this.scheduler = scheduler(spec.get("scheduler"), optimizer);
  }

  static JsonNode spec(Path caseDir) throws IOException {
    return JSON.readTree(caseDir.resolve("spec.json").toFile());
  }

  String name() {
    return spec.get("name").asText();
  }

  int nSteps() {
    return spec.get("n_steps").asInt();
  }

  int mSteps() {
    return spec.get("m_steps").asInt();
  }

  boolean plateau() {
    return "ReduceLROnPlateau".equals(spec.get("scheduler").get("type").asText());
  }

  // ---- training

  /** {@code count} steps on batches {@code start..start+count-1} of data.pt. */
  void train(Batches data, int start, int count) throws CheckpointException {
    for (int i = start; i < start + count; i++) {
      try (PointerScope scope = new PointerScope()) {
        optimizer.zeroGrad();
        Tensor loss = torch.cross_entropy_loss(net.forward(data.x.select(0, i)),
            data.y.select(0, i));
        loss.backward();
        optimizer.step();
        double value = loss.item_double();
        if (plateau()) {
          ((ReduceLROnPlateau) scheduler).step(value);
        } else {
          scheduler.step();
        }
        losses.add(value);
        List<Double> stepLrs = new ArrayList<>();
        for (ParamGroup g : optimizer.paramGroups()) stepLrs.add(g.lr());
        lrs.add(stepLrs);
      }
    }
  }

  /** The batches of data.pt: x [S, B, 3, 8, 8] float32, y [S, B] int64. */
  static final class Batches implements AutoCloseable {
    final Tensor x;
    final Tensor y;

    Batches(Path file) throws CheckpointException {
      try (LoadedCheckpoint ckpt = CheckpointLoader.load(file, LoadOptions.defaults())) {
        Map<?, ?> root = (Map<?, ?>) ckpt.root();
        x = new Tensor(ckpt.tensor((TensorRef) root.get("x")));
        y = new Tensor(ckpt.tensor((TensorRef) root.get("y")));
      }
    }

    @Override
    public void close() {
      x.close();
      y.close();
    }
  }

  // ---- building from the spec

  private List<ParamGroup> paramGroups(JsonNode groupsSpec) {
    if (groupsSpec == null || groupsSpec.isNull()) return List.of(ParamGroup.of(net.parameters()));
    List<ParamGroup> groups = new ArrayList<>();
    try (StringTensorDict named = net.module.named_parameters()) {
      return paramGroups(groupsSpec, named, groups);
    }
  }

  private static List<ParamGroup> paramGroups(JsonNode groupsSpec, StringTensorDict named,
      List<ParamGroup> groups) {
    for (JsonNode g : groupsSpec) {
      List<String> modules = new ArrayList<>();
      g.get("modules").forEach(m -> modules.add(m.asText()));
      List<Tensor> params = new ArrayList<>();
      for (long i = 0; i < named.size(); i++) {
        String name = named.get(i).key().getString();
        String module = name.substring(0, name.indexOf('.'));
        if (modules.contains(module)) params.add(named.get(i).value());
      }
      ParamGroup group = ParamGroup.of(params);
      for (Iterator<Map.Entry<String, JsonNode>> it = g.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if (!e.getKey().equals("modules")) group.set(e.getKey(), python(e.getValue()));
      }
      groups.add(group);
    }
    return groups;
  }

  /** A JSON value as the Python value json.load gives (int → Long, float → Double, a list). */
  static Object python(JsonNode v) {
    if (v.isArray()) {
      List<Object> out = new ArrayList<>();
      v.forEach(x -> out.add(python(x)));
      return out;
    }
    if (v.isIntegralNumber()) return v.asLong();
    if (v.isNumber()) return v.asDouble();
    if (v.isBoolean()) return v.asBoolean();
    if (v.isNull()) return null;
    return v.asText();
  }

  /** The optimizer {@code {"type", "kwargs"}} describes, over {@code groups}. */
  static Optimizer optimizer(JsonNode spec, List<ParamGroup> groups) {
    JsonNode kw = spec.get("kwargs");
    return switch (spec.get("type").asText()) {
      case "SGD" -> new SGD(groups, sgdOptions(kw));
      case "Adam" -> new Adam(groups, adamOptions(Adam.options(), kw));
      case "AdamW" -> new AdamW(groups, adamOptions(AdamW.options(), kw));
      case "RMSprop" -> new RMSprop(groups, rmspropOptions(kw));
      case "Adagrad" -> new Adagrad(groups, adagradOptions(kw));
      default -> throw new IllegalArgumentException(spec.toString());
    };
  }

  private static SGD.Options sgdOptions(JsonNode kw) {
    SGD.Options o = SGD.options();
    for (Iterator<Map.Entry<String, JsonNode>> it = kw.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      double d = e.getValue().asDouble();
      switch (e.getKey()) {
        case "lr" -> o.lr(d);
        case "momentum" -> o.momentum(d);
        case "dampening" -> o.dampening(d);
        case "weight_decay" -> o.weightDecay(d);
        case "nesterov" -> o.nesterov(e.getValue().asBoolean());
        default -> throw new IllegalArgumentException("SGD " + e.getKey());
      }
    }
    return o;
  }

  private static Adam.Options adamOptions(Adam.Options o, JsonNode kw) {
    for (Iterator<Map.Entry<String, JsonNode>> it = kw.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      JsonNode v = e.getValue();
      switch (e.getKey()) {
        case "lr" -> o.lr(v.asDouble());
        case "betas" -> o.betas(v.get(0).asDouble(), v.get(1).asDouble());
        case "eps" -> o.eps(v.asDouble());
        case "weight_decay" -> o.weightDecay(v.asDouble());
        case "amsgrad" -> o.amsgrad(v.asBoolean());
        default -> throw new IllegalArgumentException("Adam " + e.getKey());
      }
    }
    return o;
  }

  private static RMSprop.Options rmspropOptions(JsonNode kw) {
    RMSprop.Options o = RMSprop.options();
    for (Iterator<Map.Entry<String, JsonNode>> it = kw.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      JsonNode v = e.getValue();
      switch (e.getKey()) {
        case "lr" -> o.lr(v.asDouble());
        case "alpha" -> o.alpha(v.asDouble());
        case "eps" -> o.eps(v.asDouble());
        case "weight_decay" -> o.weightDecay(v.asDouble());
        case "momentum" -> o.momentum(v.asDouble());
        case "centered" -> o.centered(v.asBoolean());
        default -> throw new IllegalArgumentException("RMSprop " + e.getKey());
      }
    }
    return o;
  }

  private static Adagrad.Options adagradOptions(JsonNode kw) {
    Adagrad.Options o = Adagrad.options();
    for (Iterator<Map.Entry<String, JsonNode>> it = kw.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      double d = e.getValue().asDouble();
      switch (e.getKey()) {
        case "lr" -> o.lr(d);
        case "lr_decay" -> o.lrDecay(d);
        case "eps" -> o.eps(d);
        case "weight_decay" -> o.weightDecay(d);
        case "initial_accumulator_value" -> o.initialAccumulatorValue(d);
        default -> throw new IllegalArgumentException("Adagrad " + e.getKey());
      }
    }
    return o;
  }

  static LRScheduler scheduler(JsonNode spec, Optimizer opt) {
    JsonNode kw = spec.get("kwargs");
    return switch (spec.get("type").asText()) {
      case "StepLR" -> new StepLR(opt, kw.get("step_size").asLong(),
          kw.has("gamma") ? kw.get("gamma").asDouble() : StepLR.DEFAULT_GAMMA);
      case "MultiStepLR" -> new MultiStepLR(opt, longs(kw.get("milestones")),
          kw.has("gamma") ? kw.get("gamma").asDouble() : MultiStepLR.DEFAULT_GAMMA);
      case "ExponentialLR" -> new ExponentialLR(opt, kw.get("gamma").asDouble());
      case "ConstantLR" -> new ConstantLR(opt,
          kw.has("factor") ? kw.get("factor").asDouble() : ConstantLR.DEFAULT_FACTOR,
          kw.has("total_iters") ? kw.get("total_iters").asLong() : ConstantLR.DEFAULT_TOTAL_ITERS);
      case "PolynomialLR" -> new PolynomialLR(opt, kw.get("total_iters").asLong(),
          kw.get("power").asDouble());
      case "CosineAnnealingLR" -> new CosineAnnealingLR(opt, kw.get("T_max").asLong(),
          kw.has("eta_min") ? kw.get("eta_min").asDouble() : CosineAnnealingLR.DEFAULT_ETA_MIN);
      case "LinearLR" -> new LinearLR(opt, kw.get("start_factor").asDouble(),
          kw.has("end_factor") ? kw.get("end_factor").asDouble() : LinearLR.DEFAULT_END_FACTOR,
          kw.has("total_iters") ? kw.get("total_iters").asLong() : LinearLR.DEFAULT_TOTAL_ITERS);
      case "LambdaLR" -> new LambdaLR(opt, lambda(kw.get("lr_lambda")));
      case "MultiplicativeLR" -> new MultiplicativeLR(opt, lambda(kw.get("lr_lambda")));
      case "OneCycleLR" -> {
        OneCycleLR.Options o = OneCycleLR.options().totalSteps(kw.get("total_steps").asLong());
        JsonNode maxLr = kw.get("max_lr");
        if (maxLr.isArray()) {
          List<Double> perGroup = new ArrayList<>();
          maxLr.forEach(v -> perGroup.add(v.asDouble()));
          o.maxLr(perGroup);
        } else {
          o.maxLr(maxLr.asDouble());
        }
        if (kw.has("anneal_strategy")) o.annealStrategy(kw.get("anneal_strategy").asText());
        if (kw.has("three_phase")) o.threePhase(kw.get("three_phase").asBoolean());
        if (kw.has("pct_start")) o.pctStart(kw.get("pct_start").asDouble());
        yield new OneCycleLR(opt, o);
      }
      case "ReduceLROnPlateau" -> {
        ReduceLROnPlateau.Options o = ReduceLROnPlateau.options();
        if (kw.has("mode")) o.mode(kw.get("mode").asText());
        if (kw.has("factor")) o.factor(kw.get("factor").asDouble());
        if (kw.has("patience")) o.patience(kw.get("patience").asLong());
        if (kw.has("cooldown")) o.cooldown(kw.get("cooldown").asLong());
        if (kw.has("threshold")) o.threshold(kw.get("threshold").asDouble());
        yield new ReduceLROnPlateau(opt, o);
      }
      case "SequentialLR" -> {
        List<LRScheduler> inner = new ArrayList<>();
        for (JsonNode s : kw.get("schedulers")) inner.add(scheduler(s, opt));
        yield new SequentialLR(opt, inner, longs(kw.get("milestones")));
      }
      default -> throw new IllegalArgumentException(spec.toString());
    };
  }

  /** The Java twins of training_cases.lr_lambda: {"pow": b} is b ** epoch, {"const": f} is f. */
  private static LongToDoubleFunction lambda(JsonNode spec) {
    if (spec.has("pow")) {
      double base = spec.get("pow").asDouble();
      return epoch -> Math.pow(base, epoch);
    }
    double factor = spec.get("const").asDouble();
    return epoch -> factor;
  }

  private static List<Long> longs(JsonNode array) {
    List<Long> out = new ArrayList<>();
    array.forEach(v -> out.add(v.asLong()));
    return out;
  }

  @Override
  public void close() {
    optimizer.close();
    net.close();
  }
}
