/**
 * PyTorch state_dicts on the JVM: {@link io.ckpt4j.statedict.StateDict} (ordered name → LibTorch
 * tensor, with Python's {@code _metadata}), found in checkpoints, taken from LibTorch modules or
 * from whole pickled {@code nn.Module}s without running Python, reshaped (the {@code module.} and
 * {@code _orig_mod.} prefixes DataParallel and torch.compile leave, renames, filters, dtype and
 * device), and loaded into LibTorch modules by {@link io.ckpt4j.statedict.StateDict#loadInto} with
 * Python's {@code load_state_dict} semantics: {@code strict}, {@code missing_keys},
 * {@code unexpected_keys}, {@code assign}.
 *
 * <pre>{@code
 * LoadOptions cpu = LoadOptions.defaults().mapLocation("cpu");
 * try (LoadedCheckpoint ckpt = CheckpointLoader.load(path, cpu);
 *     StateDict sd = StateDict.from(ckpt)) {               // or ckpt['model_state_dict'] & co.
 *   sd.loadInto(model, LoadStateDictOptions.defaults().fixModulePrefix(true));
 * }
 * }</pre>
 */
package io.ckpt4j.statedict;
