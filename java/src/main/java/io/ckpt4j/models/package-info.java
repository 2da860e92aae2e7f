/**
 * Reference models built in Java from LibTorch layers, with the parameter and buffer names of
 * their Python originals, so that a {@code state_dict} saved in Python loads strictly.
 *
 * <p>{@link io.ckpt4j.models.ResNet}: torchvision's ResNet-18/34/50/101/152.
 */
package io.ckpt4j.models;
