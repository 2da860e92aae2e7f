/**
 * Inference on AOTInductor packages ({@code torch._inductor.aoti_compile_and_package}: a
 * {@code .pt2} holding a model compiled ahead of time by torch.export and Inductor), run from
 * Java through LibTorch's AOTInductor runners: {@link io.ckpt4j.aoti.ExportedModel}. Inputs are
 * checked against the package's specification before native code sees them, the unpacked library
 * is owned and removed, and a package compiled with runtime constant folding takes new weights
 * from a state_dict. What a package says about itself is read without LibTorch by
 * {@code io.ckpt4j.layout.pt2.AotiPackage}.
 */
package io.ckpt4j.aoti;
