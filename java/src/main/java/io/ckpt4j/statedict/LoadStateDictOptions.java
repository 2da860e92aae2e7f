package io.ckpt4j.statedict;

/**
 * How {@link StateDict#loadInto} loads a state_dict into a module, in Python's
 * {@code load_state_dict} terms. Immutable; each setter returns a changed copy.
 *
 * <pre>{@code
 * LoadStateDictOptions.defaults()   // strict=True, assign=False
 *     .strict(false)                // report missing/unexpected keys instead of failing
 *     .assign(true)                 // the module takes the state_dict's tensors
 *     .fixModulePrefix(true)        // reconcile a DataParallel "module." prefix either way
 * }</pre>
 *
 * <p>Thread safety: immutable (every setter returns a new options object), so one instance may
 * be shared by any number of threads.
 */
public final class LoadStateDictOptions {
  private static final LoadStateDictOptions DEFAULTS =
      new LoadStateDictOptions(true, false, false);

  private final boolean strict;
  private final boolean assign;
  private final boolean fixModulePrefix;

  private LoadStateDictOptions(boolean strict, boolean assign, boolean fixModulePrefix) {
    this.strict = strict;
    this.assign = assign;
    this.fixModulePrefix = fixModulePrefix;
  }

  /** {@code strict=True, assign=False}, no prefix fixing: Python's defaults. */
  public static LoadStateDictOptions defaults() {
    return DEFAULTS;
  }

  /**
   * {@code strict}: when true (the default) any missing or unexpected key is an error; when false
   * they are returned as {@link IncompatibleKeys} and the matching keys are still loaded.
   */
  public LoadStateDictOptions strict(boolean strict) {
    return new LoadStateDictOptions(strict, assign, fixModulePrefix);
  }

  /**
   * {@code assign}: when true the module's parameters and buffers take the state_dict's tensors
   * (their dtype, device and storage; parameters keep their {@code requires_grad}) instead of
   * copying the values into the module's own tensors.
   */
  public LoadStateDictOptions assign(boolean assign) {
    return new LoadStateDictOptions(strict, assign, fixModulePrefix);
  }

  /**
   * When every state_dict key starts with {@code module.} (DataParallel / DDP) and no module key
   * does, strip it first; when the module's keys all do and the state_dict's do not, add it.
   * The same for torch.compile's {@code _orig_mod.}.
   */
  public LoadStateDictOptions fixModulePrefix(boolean fixModulePrefix) {
    return new LoadStateDictOptions(strict, assign, fixModulePrefix);
  }

  public boolean strict() {
    return strict;
  }

  public boolean assign() {
    return assign;
  }

  public boolean fixModulePrefix() {
    return fixModulePrefix;
  }

  @Override
  public String toString() {
    return "LoadStateDictOptions(strict=" + strict + ", assign=" + assign + ", fixModulePrefix="
        + fixModulePrefix + ")";
  }
}
