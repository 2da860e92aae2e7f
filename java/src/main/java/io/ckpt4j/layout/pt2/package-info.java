/**
 * PT2 archives ({@code .pt2}) as data: what {@code torch.export.save} writes and what an
 * AOTInductor package ({@code torch._inductor.aoti_compile_and_package}) is. A PT2 archive is a
 * torch zip whose {@code archive_format} record says {@code pt2}; per model it holds the
 * serialized ExportedProgram ({@code models/<name>.json}), payload configs ({@code
 * data/weights/<name>_weights_config.json}, {@code data/constants/<name>_constants_config.json})
 * mapping each state_dict / constants name to a raw-bytes record ({@code weight_0},
 * {@code tensor_0}) with dtype, sizes, strides and offset, or an AOTInductor model under
 * {@code data/aotinductor/<name>/}.
 *
 * <p>This package knows the layout only: record names ({@link io.ckpt4j.layout.pt2.Pt2Records}),
 * the archive and its models ({@link io.ckpt4j.layout.pt2.Pt2Archive}), payload configs ({@link
 * io.ckpt4j.layout.pt2.PayloadEntry}, {@link io.ckpt4j.layout.pt2.TensorMeta}) and a program's
 * signature ({@link io.ckpt4j.layout.pt2.ProgramSummary}), and an AOTInductor model's description
 * ({@link io.ckpt4j.layout.pt2.AotiPackage}: metadata, inputs with their dtypes, sizes and dynamic
 * bounds, outputs, constants, read from its JSON and generated wrapper source). Building tensors
 * over the records is {@code io.ckpt4j.load}'s job, running a compiled model
 * {@code io.ckpt4j.aoti}'s. No LibTorch class is used here, and nothing is run.
 */
package io.ckpt4j.layout.pt2;
