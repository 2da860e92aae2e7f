package io.ckpt4j.checkpoint.optim;

import io.ckpt4j.OwnedResource;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * What the two optimizer engines, the Java {@link Optimizer}s and {@link LibTorchOptimizer}, share
 * with Python's {@code torch.optim.Optimizer}: the param groups, each completed with the
 * {@code defaults} it does not set; the parameters, numbered across the groups in order; the
 * groups' half of {@code state_dict()}; and the release of the parameter references on
 * {@link #close()} (twice is harmless).
 */
abstract class AbstractOptimizer extends OwnedResource implements ParamGroups {
  private final String name;
  private final Map<String, Object> defaults;
  private final List<ParamGroup> groups;
  private final List<Tensor> params = new ArrayList<>();

  /**
   * Python's {@code Optimizer.__init__(params, defaults)}: each group gets the defaults it does
   * not set itself, in the defaults' order after its own keys.
   *
   * @param name the Python class name, for messages ("SGD")
   * @throws IllegalArgumentException when there is no group, or a parameter is in two groups
   */
  AbstractOptimizer(String name, List<ParamGroup> groups, Map<String, Object> defaults) {
    this.name = name;
    this.defaults = Collections.unmodifiableMap(new LinkedHashMap<>(defaults));
    if (groups.isEmpty()) {
      throw new IllegalArgumentException(name + " got an empty parameter list");
    }
    this.groups = List.copyOf(groups);
    Map<Long, Integer> seen = new HashMap<>();
    for (ParamGroup group : this.groups) {
      defaults.forEach(group::setDefault);
      for (Tensor p : group.params()) {
        long impl = p.unsafeGetTensorImpl().address();
        if (seen.put(impl, params.size()) != null) {
          throw new IllegalArgumentException(name + ": some parameters appear in more than one"
              + " parameter group");
        }
        params.add(p);
      }
    }
  }

  /** Python's class name of this optimizer, e.g. {@code "AdamW"}. */
  public String name() {
    return name;
  }

  /** {@code optimizer.param_groups}. */
  @Override
  public List<ParamGroup> paramGroups() {
    return groups;
  }

  /** {@code optimizer.defaults}: the hyper-parameters a group gets when it does not set them. */
  @Override
  public Map<String, Object> defaults() {
    return defaults;
  }

  /** Every parameter, in Python's index order. */
  public List<Tensor> parameters() {
    return Collections.unmodifiableList(params);
  }

  /** {@code state_dict()["param_groups"]}: each group's hyper-parameters, its indices last. */
  final List<LinkedHashMap<String, Object>> packedGroups() {
    List<LinkedHashMap<String, Object>> out = new ArrayList<>();
    long index = 0;
    for (ParamGroup group : groups) {
      LinkedHashMap<String, Object> packed = new LinkedHashMap<>(group.options());
      List<Long> indices = new ArrayList<>();
      for (int i = 0; i < group.params().size(); i++) indices.add(index++);
      packed.put(ParamGroup.PARAMS, indices);
      out.add(packed);
    }
    return out;
  }

  /** Releases what the engine holds besides the parameter references; called once. */
  abstract void release();

  /** Releases the engine's state and the parameter references (once: see OwnedResource). */
  @Override
  protected final void releaseResources() {
    release();
    for (ParamGroup g : groups) g.close();
  }

  @Override
  protected String resourceName() {
    return "the " + name + " optimizer";
  }
}
