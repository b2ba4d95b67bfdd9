"""Every string the playground shows (the labs and the LeNet studio), in Korean and English, with the lecture's terms.

    text(lang, key, **values)          # the string, {placeholders} filled; English if `lang` is unknown
    pick_language(accept_language)     # "ko" or "en" from Accept-Language / navigator.language

Keys are literals in the code (`t("stride")`), except five families built from a name the code holds:
`f_<filter>` (conv_lab.FILTERS), `loss_<loss>` and `opt_<optimizer>` (training.LOSSES, training.OPTIMIZERS),
`status_<status>` (the trainer's status) and `msg_<status>` (the trainer's message when a run ends); the Networks
tab adds `model_<name>` (networks_mlp.MODELS, networks_filters.RUNS).
tests/test_i18n.py checks that every key is used and that both languages have the same keys and placeholders.
"""

LANGUAGES = {"ko": "한국어", "en": "English"}
DEFAULT = "en"

STRINGS = {
    "en": {
        # the page
        "title": "CNN Playground",
        "subtitle": "Learn convolutional neural networks by touching them",
        "tab_conv": "Convolution",
        "tab_pool": "Pooling",
        "tab_studio": "LeNet studio",
        "lang": "Language",
        # learning labs (U-learn, issue 9: backprop_lab, loss_lab, optimizer_lab, regularization_lab, race)
        "race_status": "{status} · {images:,} of {total:,} images per run · {ips:,.0f} images/s",
        "tab_backprop": "Backprop",
        "tab_losses": "Losses",
        "tab_optimizers": "Optimizers",
        "tab_regularization": "Regularization",
        "value": "value",
        "loss_intro": "How a network learns depends on what it is told to minimise. Compare the losses of the "
                      "lecture: mean squared error (MSE), cross-entropy and focal loss, first as curves, then by "
                      "training the same LeNet-5 with each.",
        "loss_alpha": "Focal α",
        "loss_curve_title": "Loss against p, the softmax probability of the true class",
        "loss_grad_title": "Its gradient with respect to the true class's logit",
        "loss_p_axis": "p (probability given to the true class)",
        "loss_grad_axis": "∂loss/∂z (true class)",
        "loss_saturation": "Where the network is badly wrong (p = {p:.2f}), MSE on the softmax has almost stopped "
                           "learning: its gradient is {mse:.4f}, against cross-entropy's {ce:.4f}. Cross-entropy "
                           "does not saturate; focal loss (γ > 0) turns down the examples it already gets right.",
        "loss_race_title": "Train LeNet-5 with each loss",
        "loss_race_help": "The same LeNet-5 from the same seed, Adam, the same number of images per run: each loss "
                          "on balanced MNIST and on imbalanced MNIST (only 10% of the digits 5-9 kept). Then the "
                          "recall of every digit on the test images. (MSE trains as the studio's does: on the "
                          "network's scores, the logits.)",
        "loss_images": "Images per run",
        "loss_images_seen": "{images:,} images trained",
        "loss_balanced": "balanced",
        "loss_imbalanced": "imbalanced",
        "loss_rare_mean": "5-9 (rare) mean",
        "loss_recall_title": "Recall per digit (dashed: balanced, solid: imbalanced)",
        "opt_intro": "Optimizers improve on plain gradient descent (SGD) in two ways the lecture names: momentum "
                     "(past updates keep pushing) and adaptive learning rates (each weight its own step size). "
                     "Race them on 2-D loss surfaces, then on LeNet-5.",
        "opt_surface": "Loss surface",
        "surface_rosenbrock": "Narrow curved valley (Rosenbrock)",
        "surface_saddle": "Saddle point between two minima",
        "surface_noisy_bowl": "Noisy bowl (a mini-batch's view)",
        "opt_steps": "Steps",
        "opt_fields_help": "Each optimizer's learning rate and its own settings (momentum, ρ, β₁, β₂); every edit "
                           "runs the race again. Click the plot to start somewhere else.",
        "opt_shown": "Show step",
        "opt_next": "Step",
        "opt_play": "Play",
        "opt_final": "loss {loss:.4g} at the shown step",
        "opt_lenet_title": "The same race on LeNet-5",
        "opt_lenet_help": "Each optimizer trains LeNet-5 from the same weights on the same batches (the studio's "
                          "learning rates). Below: the loss curves, and the chosen optimizer's state over C1's six "
                          "5×5 filters, redrawn as it trains.",
        "opt_lenet_curves": "Training loss of every optimizer",
        "opt_state_of": "State of",
        "opt_velocity": "Velocity v (momentum)",
        "opt_accumulator": "Accumulated squared gradients (AdaGrad)",
        "opt_average": "Moving average of squared gradients (RMSprop)",
        "opt_m": "First moment m (Adam)",
        "opt_v": "Second moment v (Adam)",
        "opt_step": "The step each weight took last",
        "reg_intro": "With only a few hundred training digits LeNet-5 (61,706 weights) can memorise them: its "
                     "accuracy on them reaches 100% while the test accuracy stays behind. Regularization narrows "
                     "that gap: dropout switches random units off while training; weight decay and L2 keep the "
                     "weights small (decay shrinks them at each step; L2 adds l2·Σw² to the loss). The same network "
                     "from the same seed, on the same batches, four times.",
        "reg_rate": "Dropout rate",
        "reg_place": "Dropout goes",
        "reg_after_s4": "after S4 (pooled features)",
        "reg_after_flatten": "after flatten (before F6)",
        "reg_after_f6": "after F6 (before the output)",
        "reg_weight_decay": "Weight decay (AdamW)",
        "reg_l2_factor": "L2 factor (kernel_regularizer)",
        "reg_l2": "L2",
        "reg_curves_title": "Accuracy on the training digits (solid) and on test digits (dashed)",
        "reg_plain": "no regularization",
        "reg_dropout": "dropout",
        "reg_decay": "weight decay",
        "reg_run": "run",
        "reg_train_acc": "training accuracy",
        "reg_test_acc": "test accuracy",
        "reg_gap": "gap",
        "reg_gaps_empty": "Start to train the four runs and measure the gap.",
        "bp_intro": "Backpropagation is how a CNN learns its filters: the loss's gradient is passed from the output "
                    "back to the input, layer by layer (the chain rule), and every weight moves against its own "
                    "gradient. Here is a network small enough to read whole, every number on hover.",
        "bp_label": "The drawing is a",
        "bp_seed": "Weights seed",
        "bp_chain_title": "Forward tensors (left) and their gradients ∂L/∂· (right), from the loss back to the input",
        "bp_loss": "Label {label}; softmax probabilities ({probs}); cross-entropy loss L = {loss}",
        "bp_tensor": "{name}",
        "bp_rule_loss": "Softmax cross-entropy: ∂L/∂z = softmax(z) − one-hot(label), the probabilities minus the "
                        "truth.",
        "bp_rule_dense": "Dense: ∂L/∂a = ∂L/∂z · Wᵀ (each input gathers the gradients of every unit it feeds); the "
                         "kernel's gradient is aᵀ · ∂L/∂z.",
        "bp_rule_flatten": "Flatten: the same numbers, reshaped back to 3×3×2.",
        "bp_rule_pool": "Max pooling: each gradient goes to the one pixel that won its window, the others get 0 "
                        "(average pooling spreads it evenly).",
        "bp_rule_relu": "ReLU: the gradient passes where the convolution's output was > 0 and stops where ReLU cut "
                        "it to 0.",
        "bp_rule_conv": "Convolution: each output pixel sends its gradient back through the 3×3 kernel onto its "
                        "window; the kernel's gradient sums input × gradient over all 36 windows.",
        "bp_weights_dense": "Dense kernel W (18×3) and ∂L/∂W",
        "bp_weights_conv": "Conv kernels (two 3×3 filters) and ∂L/∂K: click a weight's gradient",
        "bp_terms_heading": "One shared weight's gradient, assembled",
        "bp_terms_input": "Input: the block under the weight",
        "bp_terms_upstream": "Upstream gradient",
        "bp_terms_upstream_f": "∂L/∂conv, filter {f}",
        "bp_terms_title": "∂L/∂K[{di}, {dj}, 0, {f}]",
        "bp_terms_rule": "The same weight sits under all {n} output pixels' windows (weight sharing), so its gradient "
                         "is the sum over them of (the input pixel under it) × (that output pixel's gradient). The "
                         "input pixels form the highlighted block from row {top}, col {left}.",
        "bp_terms_more": " + … ({n} more)",
        "bp_terms_zeros": "{n} terms are 0 (ReLU or max pooling sent no gradient there).",
        "bp_terms_core": "backprop's ∂L/∂K from core: {value}",
        "bp_route_title": "Max vs average pooling: where the gradient goes (the same input, the same gradient)",
        "bp_route_input": "ReLU output, filter {f}",
        "bp_route_arriving": "Gradient arriving at the 3×3 pooled map",
        "bp_route_max": "Max pooling sends it here",
        "bp_route_avg": "Average pooling sends it here",
        "bp_check_title": "Check with finite differences",
        "bp_check_help": "Nudge one weight by ±ε, measure the loss (float64), and compare (L(w+ε) − L(w−ε)) / 2ε with "
                         "backprop's gradient. Works for the explorer's selected weight or for any architecture "
                         "the studio can build (8 test digits; the studio's trained weights when it has this "
                         "architecture).",
        "bp_model_explorer": "this network's selected weight",
        "bp_model_studio": "a studio architecture",
        "bp_check_layer": "Layer",
        "bp_check_index": "Kernel index",
        "bp_check": "Check with finite differences",
        "bp_check_hint": "Press the button to compare backprop with finite differences.",
        "bp_check_result": "Numerical {numerical} · backprop {backprop} · relative error {error} (ε = {eps:g})",
        "bp_sgd_title": "One SGD step by hand",
        "bp_sgd": "Take one SGD step",
        "bp_step_hint": "Every weight moves by −learning rate × its gradient; the selected one is shown.",
        "bp_step_result": "w = {w} − {lr} × {g} = {new}; loss {before} → {after}",
        "bp_no_data": "The MNIST digits are not loaded yet: showing a drawn 1. Open this tab again in a moment.",
        # convolution lab
        "image": "Demo photo",
        "upload": "…or upload your own (PNG/JPEG)",
        "filter": "Filter",
        "extra_filters": "More filters in the same layer (each gives a feature map)",
        "size": "Size h",
        "sigma": "Sigma σ",
        "custom_size": "Kernel size",
        "stride": "Stride",
        "padding": "Padding",
        "padding_valid": "none (valid)",
        "padding_same": "zero padding (same)",
        "bias": "Bias b",
        "copy_to_custom": "Edit a copy of this kernel",
        "input_plot": "Input {h}×{w}×1",
        "output_plot": "Feature map {name}: {h}×{w}",
        "kernel_title": "Kernel {name} ({h}×{w})",
        "f_gaussian": "Gaussian smoothing",
        "f_box": "Box (mean)",
        "f_sharpen": "Sharpen",
        "f_emboss": "Emboss",
        "f_laplacian": "Laplacian",
        "f_sobel_x": "Sobel x",
        "f_sobel_y": "Sobel y",
        "f_sobel": "Sobel magnitude",
        "f_canny": "Canny edges",
        "f_custom": "My kernel (edit cells)",
        "nonlinear_note": "{name} is not a single convolution, so stride, padding and bias do not apply "
                          "(stride 1, same size output).",
        "sobel_note": "Sobel magnitude = √(gx² + gy²), two convolutions (Sobel x and Sobel y) combined per pixel:",
        "canny_note": "Canny is a multi-step algorithm (Gaussian smoothing, Sobel gradients, non-maximum "
                      "suppression, hysteresis thresholds): no single dot product makes this pixel.",
        "numbers_title": "Layer arithmetic",
        "numbers_output": "Output shape: {ho}×{wo}×{f} (k′ = {f}: one feature map per filter)",
        "numbers_params": "Weights k′(k·h·h+1) = {formula} = {params:,} "
                          "(weight sharing: every pixel uses the same filter)",
        "numbers_mults": "Multiplications: {formula} = {mults:,}",
        "numbers_fc": "A fully connected layer on this input needs {inputs:,} input nodes; producing the same "
                      "{outputs:,} outputs would take {fc_params:,} weights.",
        "numbers_lecture": "The lecture's example: a 256×256×3 image needs {inputs:,} input nodes.",
        "numbers_nonlinear": "{name}: not a learnable convolution layer (no weights).",
        "dot_title": "Output pixel (row {i}, col {j}) of {name}",
        "dot_window": "Receptive field: input rows {top}…{bottom}, cols {left}…{right}",
        "dot_padding_note": "(cells outside the image are zero padding)",
        "dot_mirror_note": "(cells outside the image mirror the border, as core's Sobel does)",
        "dot_sum": "Σ input × kernel = {total} ; + bias {bias} = {output}",
        "dot_hint": "Click a pixel of the feature map to see how it was computed.",
        "export_kernel": "This kernel in NumPy (copy it into Python):",
        "export_png": "Download the feature map (.png)",
        "notice_downscaled": "The image was {h0}×{w0}; it was shrunk by average pooling ({f}×{f}) to {h}×{w}.",
        "notice_loaded": "Loaded {name}: {h}×{w}.",
        "err_upload": "Could not read “{name}” as a PNG or JPEG image ({why}). The previous image is kept.",
        "why_no_pil": "Pillow, which reads images, is not available here",
        "why_empty": "the file is empty",
        "why_format": "it is {format}, not PNG or JPEG",
        "why_not_image": "its bytes are not a PNG or JPEG image",
        "why_too_large": "it would unpack to far too many pixels",
        "why_damaged": "the file is damaged or cut short: {detail}",
        "why_unknown_filter": "unknown filter {name}; choose one of {names}",
        "why_custom_shape": "my kernel must be 3×3 or 5×5, got {shape}",
        "why_empty_field": "{field} is empty; type a number",
        "why_not_number": "{field} needs a number, got {value}",
        "why_range": "{field} must be between {lo} and {hi}, got {value}",
        "why_whole": "{field} must be a whole number from {lo} to {hi}, got {value}",
        "why_odd": "{field} must be an odd whole number from {lo} to {hi}, got {value}",
        "why_choice": "{field} must be one of {names}, got {value}",
        "why_cells": "my kernel's cells must be numbers between -{limit} and {limit}",
        "why_too_many_filters": "at most {n} more filters fit in the layer, got {got}",
        "why_overflow": "the feature map of {name} overflows (values beyond float32)",
        "why_file_too_big": "the file is {mb} MB; the lab reads files up to {limit} MB",
        "why_too_many_pixels": "it is {w}×{h} pixels; the lab decodes up to {limit} million",
        "notice_decoded": "{name} is {h0}×{w0}: it was decoded shrunk to {h}×{w} (each pixel the average of "
                          "{f}×{f}).",
        "err_settings": "These settings do not work: {why}. The last good result is shown.",
        # a link's settings that do not work together (restore in the conv, pooling and studio rooms)
        "url_failed": "The link's settings do not work together ({why}); the defaults are shown.",
        "url_field_refused": "The link's {name} was not used: {why}.",
        "url_studio_notices": "Not everything in the link could be used: {notices}",
        # pooling lab
        "pool_source": "Pool what",
        "pool_src_input": "the input image",
        "pool_src_map": "the convolution feature map",
        "pool_kind": "Pooling",
        "pool_max": "max pooling",
        "pool_avg": "average pooling",
        "pool_size": "Pool size",
        "pool_stride": "Stride",
        "pool_input_plot": "Input {h}×{w}",
        "pool_winners": "Mark every window's winner in red",
        "pool_output_plot": "Pooled {h}×{w}",
        "pool_numbers": "{h}×{w} → {ho}×{wo}: pooling has no weights; it keeps the depth and shrinks the map.",
        "pool_detail_max": "Window rows {top}…{bottom}, cols {left}…{right}: max = {output}, from input pixel "
                           "(row {r}, col {c})",
        "pool_detail_avg": "Window rows {top}…{bottom}, cols {left}…{right}: mean of {n} values = {output}",
        "pool_hint": "Click a pixel of the pooled map to see its window.",
        "pool_photo_plot": "Its receptive field on the photo",
        "pool_field": "On the photo this pooled pixel sees rows {top}…{bottom}, cols {left}…{right}: {h}×{w} pixels, "
                      "more than the {kh}×{kw} that one feature-map pixel sees (receptive fields grow with depth).",
        # LeNet studio
        "intro": "Train LeNet-5 (C-P-C-P-C-FC-FC, 61,706 weights) on real MNIST digits and watch it learn its own "
                 "filters by backpropagation. Then draw a digit and see what it thinks.",
        # architecture
        "arch_title": "Architecture (one Keras layer per line; input 32×32×1, last layer 10 scores)",
        "arch_apply": "Apply architecture",
        "arch_lenet": "Back to LeNet-5",
        "arch_add": "Add before the last layer",
        "col_layer": "Layer", "col_kind": "Type", "col_shape": "Output shape", "col_params": "Weights",
        "col_mults": "Multiplications",
        "total": "Total",
        # settings
        "loss": "Loss",
        "loss_categorical_crossentropy": "Cross-entropy",
        "loss_mse": "Mean squared error (MSE)",
        "loss_focal": "Focal loss",
        "gamma": "Focal γ",
        "alpha": "Focal α (empty: no weighting)",
        "optimizer": "Optimizer",
        "opt_sgd": "SGD", "opt_momentum": "SGD + momentum", "opt_nesterov": "SGD + Nesterov momentum",
        "opt_adagrad": "AdaGrad", "opt_rmsprop": "RMSprop", "opt_adam": "Adam",
        "learning_rate": "Learning rate",
        "momentum": "Momentum",
        "rho": "RMSprop ρ",
        "beta_1": "Adam β₁",
        "beta_2": "Adam β₂",
        "batch_size": "Batch size",
        "epochs": "Epochs",
        "train_size": "Training images",
        "dropout": "Dropout before the last layer",
        "seed": "Seed",
        "imbalanced": "Imbalanced MNIST: keep only 10% of the digits 5-9 (try focal loss)",
        # run
        "start": "Start", "pause": "Pause", "resume": "Resume", "stop": "Stop", "reset": "Reset weights",
        "save": "Save weights (.npz)", "load": "Load weights (.npz, from the studio or the training scripts)",
        "export_zip": "Export as Python (.zip)",
        "code_title": "This model as Python code (the export's script, and Keras beside it)",
        "code_core": "With the playground's core (studio_model.py in the export)",
        "code_keras": "The same model in Keras (TensorFlow)",
        "status_ready": "Ready", "status_running": "Training", "status_paused": "Paused", "status_stopped": "Stopped",
        "status_done": "Done", "status_diverged": "Stopped: diverged",
        "status_line": "{status} · epoch {epoch} of {epochs} · {images:,} images seen · {ips:,.0f} images/s · "
                       "test accuracy {acc}",
        "msg_done": "Training finished: {epochs} epoch(s), {images:,} images seen.",
        "msg_stopped": "Training stopped after {images:,} images; the weights trained so far are kept.",
        "msg_diverged": "The loss exploded to {loss:.3g} after {images:,} images: the learning rate {lr:g} is too "
                        "high for {optimizer}. Training stopped and the last good weights were restored. Try a "
                        "smaller learning rate.",
        "msg_nonfinite": "The loss became {loss} (not a number) after {images:,} images: the learning rate {lr:g} is "
                         "too high for {optimizer}. Training stopped and the last good weights were restored. Try a "
                         "smaller learning rate.",
        # training.py (issue 11): a NaN/inf gradient while the loss was still finite (core.step names the weight)
        "msg_nonfinite_grad": "The gradient of {weight} became NaN/inf after {images:,} images (the loss was "
                              "{loss:.3g}): the learning rate {lr:g} is too high for {optimizer}. Training stopped and "
                              "the last good weights were restored. Try a smaller learning rate.",
        "msg_loaded": "Loaded {name}: {params:,} weights. Start trains it further.",
        "err_config": "That setting does not work: {why}. Nothing was changed.",
        "err_load": "Could not load that weights file: {why}. Your current model is kept.",
        "err_no_data": "The MNIST subset is not available ({why}), so the studio cannot train here.",
        "loading_data": "Loading the MNIST digits…",
        "err_internal": "Training paused by an unexpected error ({why}). Stop, or Resume to try again.",
        "err_draw": "{why}",
        # views
        "curve_loss": "Loss", "curve_acc": "Accuracy", "legend_train": "training", "legend_val": "test",
        "x_images": "images seen",
        "filters_title": "First layer's filters ({name}: {n} of {h}×{w})",
        "no_conv": "This stack has no convolution layer, so there are no filters to show.",
        "maps_title": "Feature maps of every layer: the input as the network sees it, then each layer's output",
        "maps_source": "Input",
        "src_test": "a test image", "src_drawing": "my drawing",
        "test_index": "Test image #",
        "input_title": "Input 32×32 (label {label})",
        "input_title_drawing": "Your digit (32×32)",
        "map_title": "{name} {shape}",
        "confusion_title": "Confusion matrix on the {n:,} test images (rows: true digit, columns: predicted)",
        "confusion_empty": "The confusion matrix appears after the first epoch (or when training stops).",
        "recall": "recall",
        "mis_title": "Misclassified test images (true → predicted), {n} of {total}",
        "draw_title": "Draw a digit",
        "draw_help": "Drag in the box to draw (white on black, like MNIST).",
        "draw_clear": "Clear",
        "draw_empty": "Draw a digit to see the prediction.",
        "prediction": "Prediction: {digit} ({p:.0%} sure)",
        "probs_title": "Class probabilities",
        # Networks tab (playground/networks*.py)
        "tab_networks": "Networks",
        "nets_intro": "The lecture's other networks, trained here and measured on the spot: an MLP against a CNN, "
                      "designed filters against learned ones, an autoencoder and a segmentation network.",
        "nets_status": "{status} · {what}",
        "nets_stage_ready": "press Start",
        "nets_stage_train": "{model}: epoch {epoch} of {epochs}",
        "nets_stage_shift": "{model}: testing digits moved {k} pixel(s)",
        "nets_stage_done": "all measured",
        "nets_msg_done": "Finished: every number below was measured in this run.",
        "nets_msg_stopped": "Stopped: what was measured so far is kept below.",
        "nets_err_internal": "Stopped by an unexpected error ({why}); what was measured so far is kept below.",
        "nets_msg_gradient": "The gradient of {weight} became NaN/inf after {images:,} images (the loss was {loss:.3g}): "
                             "the learning rate {lr:g} is too high for {optimizer}. Training stopped and the last good "
                             "weights were restored. Try a smaller learning rate.",
        "nets_no_data": "The MNIST subset is not available ({why}), so these networks cannot train here.",
        "model_mlp": "MLP", "model_cnn": "CNN (LeNet-5)",
        "model_frozen": "designed C1, frozen", "model_designed": "designed C1, trained",
        "model_learned": "C1 learned from random weights",
        "f_random": "Random",
        "nets_col_model": "model", "nets_col_weights": "weights", "nets_col_shift": "moved {k} px",
        "nets_col_filter": "filter", "nets_col_nearest": "nearest designed kernel", "nets_col_epoch": "epoch {e}",
        "nets_mlp_title": "Multilayer perceptron (MLP) vs convolutional network (CNN)",
        "nets_mlp_intro": "An MLP flattens the image into one long vector and loses its 2-D structure; a CNN slides "
                          "small filters over it (weight sharing) and pools. Both learn from the same digits with "
                          "about the same number of weights; then the test digits are moved a few pixels.",
        "nets_mlp_arith": "A 256×256×3 photo fed to an MLP is {inputs:,} input nodes: one dense layer of 100 units "
                          "on it already needs {dense:,} weights. A convolution layer of 64 3×3 filters needs "
                          "{conv:,}, whatever the photo's size ({ratio:,.0f} times fewer).",
        "nets_mlp_shifted": "A test digit moved 0-4 pixels",
        "nets_mlp_shift_title": "Test accuracy on moved digits",
        "nets_mlp_shift_x": "pixels moved (each direction, averaged)",
        "nets_filters_title": "Designed filters vs learned filters",
        "nets_filters_intro": "People once designed filters (Gaussian smoothing, Sobel edges, the Laplacian); a CNN "
                              "learns the filters that suit its data. From one seed, LeNet-5 trains three times: C1 "
                              "set to designed kernels and frozen (trainable=False), the same kernels trained "
                              "further, and C1 learned from random weights.",
        "nets_filters_starts": "C1 filter",
        "nets_filters_acc_title": "Test accuracy after each epoch",
        "nets_filters_tiles": "C1's filters",
        "nets_filters_rows": "Rows: where the filters started; after training; the designed kernel nearest to each.",
        "nets_filters_empty": "Start to train and compare the filters.",
        "model_ae": "autoencoder", "model_seg": "segmentation network",
        "nets_ae_title": "Autoencoder: the output is the input",
        "nets_ae_intro": "An autoencoder learns without labels to give back its input through a narrow code: the "
                         "encoder squeezes the digit into a few numbers, the decoder paints it again from them. The "
                         "loss is the mean squared error between the image and its reconstruction.",
        "nets_ae_code_size": "Code size (numbers)",
        "nets_ae_loss_title": "Reconstruction loss",
        "nets_ae_mse": "mean squared error per pixel",
        "nets_ae_pairs": "Test digits (top) and their reconstructions (bottom)",
        "nets_ae_code": "The code: {size} numbers for {pixels} pixels ({ratio:.0f} times fewer). Move a digit's code "
                        "in two of its units and see what the decoder makes of it:",
        "nets_ae_empty": "Start to train; the code appears after the first test.",
        "nets_ae_digit": "Test digit #",
        "nets_ae_unit": "Code unit {which}",
        "nets_ae_value": "Value of unit {which}",
        "nets_ae_decoded": "Decoded",
        "nets_seg_title": "Segmentation: a class for every pixel",
        "nets_seg_intro": "A segmentation network labels each pixel, here the background or the digit it belongs "
                          "to. The masks come from the MNIST digits themselves (the ink brighter than half white). "
                          "An encoder-decoder: poolings see the whole digit, transposed convolutions grow the map "
                          "back, skip connections bring the detail.",
        "nets_seg_variant": "Images",
        "nets_seg_single": "one digit, 28×28", "nets_seg_pairs": "two digits, 56×56",
        "nets_seg_inputs": "Test images",
        "nets_seg_masks": "True masks (top), predicted (bottom)",
        "nets_seg_iou_title": "IoU per class (intersection over union)",
        "nets_seg_mean_title": "Mean IoU over the digit classes",
        "nets_seg_mean": "mean IoU (digits)",
        # story and settings in the URL (U-story: playground/story.py, playground/urlstate.py, app.py)
        "tab_story": "Story",
        "url_copy": "Copy link",
        "url_notice_head": "Not everything in this link could be used; the rest keeps its defaults:",
        "url_notice_close": "Close",
        "url_too_long": "The link's settings are {n:,} characters long (at most {max:,}), so they were not read.",
        "url_too_many": "The link has more than {max} parts; only the first {max} were read.",
        "url_unknown_key": "Unknown setting “{name}” was ignored.",
        "url_unknown_tab": "There is no tab “{name}” (tabs: {names}).",
        "url_unknown_lang": "Unknown language “{name}” (languages: {names}).",
        "url_bad_settings": "The settings could not be read ({why}).",
        "url_refused": "Setting “{name}” = {value} was not used (allowed: {allowed}).",
        "story_heading": "How a CNN sees: the lecture in nine steps",
        "story_intro": "Each step is one idea of the lecture: a picture, numbers computed by this playground's core, "
                       "and a link that opens the lab where you can try it yourself.",
        "story_mlp_title": "1. Why not a plain MLP?",
        "story_mlp_text": "A multilayer perceptron (MLP) takes a vector, so a 2-D image must first be flattened into "
                          "one long row: neighbouring pixels end up far apart and the 2-D structure is lost, while "
                          "people find features in small 2-D regions (receptive fields). It is also expensive: a "
                          "256×256×3 colour image needs {inputs:,} input nodes, and every unit of the first fully "
                          "connected layer has a weight for each of them.",
        "story_mlp_result": "{size} → Flatten → {inputs:,} inputs; a Dense({units}) on top needs {params:,} weights.",
        "story_side": "Image side",
        "story_grey": "grey (1)",
        "story_rgb": "colour (3)",
        "story_units": "Dense units",
        "story_filters_title": "2. Designed filters, or learned ones?",
        "story_filters_text": "Image processing usually uses filters people designed: Gaussian smoothing, Sobel "
                              "edges, Canny edges. But where do they come from? Are they the best for recognition? "
                              "Should each data set have filters of its own? The key idea of a CNN: learn the best "
                              "filters from the data.",
        "story_receptive_title": "3. Receptive fields",
        "story_receptive_text": "A CNN imitates human vision: each output pixel is computed from a small window of "
                                "the input, its receptive field. Stacked layers see further: two 3×3 layers "
                                "already see {rf}×{rf} input pixels.",
        "story_receptive_result": "{layers} stacked {k}×{k} layers: one output pixel sees {size}×{size} input pixels.",
        "story_layers": "Stacked layers",
        "story_sharing_title": "4. Weight sharing and partial connection",
        "story_sharing_text": "A convolution layer uses several filters, each with one bias, and n filters give n "
                              "feature maps. Every pixel of a feature map uses the same filter (weight sharing) and "
                              "looks only at its neighbourhood (partial connection), so k′ filters of size h×h×k "
                              "have k′(k·h·h+1) weights, however large the image.",
        "story_sharing_result": "Conv2D: k′(k·h·h+1) = {k2}({k}·{h}·{h}+1) = {conv:,} weights. A dense layer from "
                                "{side}×{side}×{k} to {side}×{side}×{k2} would need {dense:,}, {ratio:,} times more.",
        "story_in_channels": "Input channels k",
        "story_filters_count": "Filters k′",
        "story_cost_title": "5. What a convolution layer costs",
        "story_cost_text": "The lecture's example: a 256×256×3 input, 64 filters of 3×3 with zero padding and "
                           "stride 2, then 128 filters of 5×5, again with zero padding and stride 2. Every output "
                           "value costs one multiplication per weight (the bias counted as one): {mults1:,} and "
                           "{mults2:,} multiplications.",
        "story_cost_row": "{name}: {inp} → {out}; {ho}·{wo}·{per}·{f} = {mults:,} multiplications "
                          "({per} = {h}·{w}·{k}+1)",
        "story_pooling_title": "6. Pooling",
        "story_pooling_text": "A pooling layer sums up each window: max pooling keeps the largest value, average "
                              "pooling the mean. It removes excessive detail and shrinks the feature map; it has no "
                              "weights and keeps the tensor's depth.",
        "story_pooling_result": "{kind} of the four 2×2 windows: {values}",
        "story_lenet_title": "7. Building blocks: LeNet-5",
        "story_lenet_text": "A CNN stacks convolution and pooling layers in turn: the front extracts features, the "
                            "back classifies. LeNet-5 is C-P-C-P-C-FC-FC, {total:,} weights in all.",
        "story_lenet_conv": "{name} (convolution): ({h}·{w}·{k}+1)·{f} = {params:,}",
        "story_lenet_dense": "{name} (fully connected): ({k}+1)·{f} = {params:,}",
        "story_lenet_total": "Total: {total:,} weights",
        "story_learning_title": "8. How a CNN learns",
        "story_learning_text": "Backpropagation trains a CNN: the kernel cells of the convolution layers and the "
                               "edges of the fully connected layers are its weights (pooling layers have none), and "
                               "training finds the filters that recognise the data set best. A loss function says "
                               "what to minimise (cross-entropy, mean squared error, focal loss for imbalanced "
                               "data), an optimizer how to step (SGD, momentum, AdaGrad, RMSprop, Adam), and "
                               "regularization (dropout, weight decay) keeps it from memorising. The same blocks "
                               "build other shapes: an autoencoder (output = input) or a segmentation network.",
        "story_history_title": "9. Why deep learning took off",
        "story_history_text": "Networks that imitate the receptive field are an old idea; what changed around 2010 "
                              "was data sets grown large through the internet, cheap parallel computing on GPUs, and "
                              "better learning algorithms. Point at a dot for details.",
        "story_year": "Year",
        "story_lane_cnn": "CNN milestones",
        "story_lane_why": "Why it worked",
        "story_tl_neocognitron": "Neocognitron",
        "story_tl_neocognitron_detail": "Fukushima's network of simple and complex cells, modelled on the visual "
                                        "cortex",
        "story_tl_lenet": "LeNet-5",
        "story_tl_lenet_detail": "LeCun et al.: a CNN that reads handwritten amounts on cheques",
        "story_tl_imagenet": "ImageNet, ILSVRC",
        "story_tl_imagenet_detail": "The ImageNet data set and its yearly recognition challenge begin",
        "story_tl_alexnet": "AlexNet: 15.3% error",
        "story_tl_alexnet_detail": "Wins ILSVRC 2012 with a top-5 error of 15.3%; interest in CNNs takes off",
        "story_tl_vgg": "VGG, GoogLeNet",
        "story_tl_vgg_detail": "Deeper networks: stacked small 3×3 filters (VGG), inception modules (GoogLeNet)",
        "story_tl_gan": "GAN",
        "story_tl_gan_detail": "Generative adversarial networks: a generator and a discriminator trained against "
                               "each other",
        "story_tl_resnet": "ResNet",
        "story_tl_resnet_detail": "Residual connections make networks of over 100 layers trainable; wins ILSVRC 2015",
        "story_tl_gpu": "GPUs (CUDA)",
        "story_tl_gpu_detail": "Graphics cards become general parallel computers: cheap parallel processing",
        "story_tl_data": "Big data",
        "story_tl_data_detail": "The internet makes large labelled data sets possible: ImageNet's challenge has "
                                "over a million labelled photos",
        "story_tl_relu": "ReLU",
        "story_tl_relu_detail": "max(0, x): a simple activation whose gradient does not vanish",
        "story_tl_crossentropy": "Cross-entropy",
        "story_tl_crossentropy_detail": "The classification loss AlexNet minimised (softmax with cross-entropy)",
        "story_tl_dropout": "Dropout",
        "story_tl_dropout_detail": "Regularization by switching random units off during training",
        "story_tl_adam": "Adam",
        "story_tl_adam_detail": "An optimizer with momentum and an adaptive learning rate for every weight",
        "story_try_networks": "MLP against CNN in the networks lab",
        "story_try_conv_numbers": "The layer arithmetic of a photo in the convolution lab",
        "story_try_sobel": "Sobel x on a photo",
        "story_try_canny": "Canny edges on a photo",
        "story_try_learned": "Filters learned from MNIST in the LeNet studio",
        "story_try_receptive": "Click a pixel of a 5×5 Gaussian's feature map to see its receptive field",
        "story_try_sharing": "One layer, three filters, three feature maps",
        "story_try_cost": "Zero padding and stride 2 in the convolution lab",
        "story_try_max": "Max pooling in the pooling lab",
        "story_try_avg": "Average pooling in the pooling lab",
        "story_try_lenet": "Train LeNet-5 in the studio",
        "story_try_backprop": "The backward pass, step by step",
        "story_try_losses": "Loss functions compared",
        "story_try_optimizers": "Optimizers racing on loss surfaces",
        "story_try_regularization": "Overfitting and regularization",
        "story_try_structures": "An autoencoder and a segmentation network",
        "story_try_adam": "Adam and the other optimizers",
        "story_try_crossentropy": "Cross-entropy against mean squared error",
        "story_try_dropout": "Dropout against overfitting",
        "story_soon": "(a lab still being built)",
    },
    "ko": {
        # the page
        "title": "CNN 놀이터",
        "subtitle": "직접 만져 보며 배우는 컨볼루션 신경망",
        "tab_conv": "컨볼루션",
        "tab_pool": "풀링",
        "tab_studio": "LeNet 학습",
        "lang": "언어",
        # learning labs (U-learn, issue 9: backprop_lab, loss_lab, optimizer_lab, regularization_lab, race)
        "race_status": "{status} · 실행마다 이미지 {total:,}장 중 {images:,}장 · 초당 {ips:,.0f}장",
        "tab_backprop": "역전파",
        "tab_losses": "손실 함수",
        "tab_optimizers": "옵티마이저",
        "tab_regularization": "규제",
        "value": "값",
        "loss_intro": "신경망이 무엇을 배우는지는 무엇을 최소화하라고 하는지에 달려 있습니다. 강의의 손실 함수인 "
                      "평균제곱오차(MSE), 교차 엔트로피, Focal 손실을 먼저 곡선으로, 그다음 같은 LeNet-5를 각각으로 "
                      "학습시켜 비교하세요.",
        "loss_alpha": "Focal α",
        "loss_curve_title": "정답 클래스의 softmax 확률 p에 따른 손실",
        "loss_grad_title": "정답 클래스 로짓에 대한 손실의 기울기",
        "loss_p_axis": "p (정답 클래스에 준 확률)",
        "loss_grad_axis": "∂손실/∂z (정답 클래스)",
        "loss_saturation": "신경망이 크게 틀린 곳(p = {p:.2f})에서 softmax 위의 평균제곱오차는 거의 배우지 못합니다: "
                           "기울기가 {mse:.4f}로, 교차 엔트로피의 {ce:.4f}에 비해 아주 작습니다. 교차 엔트로피는 "
                           "포화되지 않습니다. Focal 손실(γ > 0)은 이미 잘 맞히는 예의 손실을 줄입니다.",
        "loss_race_title": "손실 함수마다 LeNet-5 학습하기",
        "loss_race_help": "같은 시드의 같은 LeNet-5, Adam, 실행마다 같은 수의 이미지: 손실 함수마다 균형 MNIST와 "
                          "불균형 MNIST(숫자 5-9는 10%만 사용)로 학습합니다. 그다음 시험 이미지에서 숫자마다 "
                          "재현율을 봅니다. (평균제곱오차는 스튜디오처럼 신경망의 점수, 곧 로짓에 적용합니다.)",
        "loss_images": "실행마다 이미지 수",
        "loss_images_seen": "이미지 {images:,}장 학습",
        "loss_balanced": "균형",
        "loss_imbalanced": "불균형",
        "loss_rare_mean": "5-9 (드문 숫자) 평균",
        "loss_recall_title": "숫자별 재현율 (점선: 균형, 실선: 불균형)",
        "opt_intro": "옵티마이저는 기본 경사 하강(SGD)을 강의에서 말한 두 가지로 개선합니다: 모멘텀(이전 운동량이 현재에 "
                     "영향을 줌)과 적응적 학습률(가중치마다 자기 보폭). 2차원 손실 곡면에서, 그다음 LeNet-5에서 "
                     "경주시켜 보세요.",
        "opt_surface": "손실 곡면",
        "surface_rosenbrock": "좁고 휘어진 골짜기 (Rosenbrock)",
        "surface_saddle": "두 최솟값 사이의 안장점",
        "surface_noisy_bowl": "잡음 섞인 그릇 (미니배치로 본 모습)",
        "opt_steps": "단계 수",
        "opt_fields_help": "옵티마이저마다 학습률과 자기 설정(모멘텀, ρ, β₁, β₂); 고칠 때마다 경주를 다시 합니다. "
                           "그림을 누르면 그 자리에서 출발합니다.",
        "opt_shown": "보일 단계",
        "opt_next": "한 단계",
        "opt_play": "재생",
        "opt_final": "보이는 단계의 손실 {loss:.4g}",
        "opt_lenet_title": "LeNet-5에서 같은 경주",
        "opt_lenet_help": "옵티마이저마다 같은 가중치에서, 같은 배치로 LeNet-5를 학습합니다 (스튜디오의 학습률). "
                          "아래: 손실 곡선과, 고른 옵티마이저의 상태를 C1의 5×5 필터 6개 위에 학습하는 동안 그립니다.",
        "opt_lenet_curves": "옵티마이저마다 학습 손실",
        "opt_state_of": "상태를 볼 옵티마이저",
        "opt_velocity": "속도 v (모멘텀)",
        "opt_accumulator": "기울기 제곱의 누적 (AdaGrad)",
        "opt_average": "기울기 제곱의 이동 평균 (RMSprop)",
        "opt_m": "1차 모멘트 m (Adam)",
        "opt_v": "2차 모멘트 v (Adam)",
        "opt_step": "가중치마다 마지막 보폭",
        "reg_intro": "학습 숫자가 몇백 장뿐이면 LeNet-5(가중치 61,706개)는 그것을 외워 버립니다: 학습 숫자의 정확도는 "
                     "100%가 되지만 시험 정확도는 뒤처집니다. 규제는 그 차이를 줄입니다: 드롭아웃은 학습하는 동안 "
                     "무작위로 노드를 끄고, 가중치 감쇠와 L2는 가중치를 작게 유지합니다 (감쇠는 단계마다 가중치를 "
                     "줄이고, L2는 손실에 l2·Σw²를 더합니다). 같은 시드의 같은 신경망을 같은 배치로 네 번 학습합니다.",
        "reg_rate": "드롭아웃 비율",
        "reg_place": "드롭아웃 위치",
        "reg_after_s4": "S4 뒤 (풀링한 특징)",
        "reg_after_flatten": "flatten 뒤 (F6 앞)",
        "reg_after_f6": "F6 뒤 (출력층 앞)",
        "reg_weight_decay": "가중치 감쇠 (AdamW)",
        "reg_l2_factor": "L2 계수 (kernel_regularizer)",
        "reg_l2": "L2",
        "reg_curves_title": "학습 숫자의 정확도(실선)와 시험 숫자의 정확도(점선)",
        "reg_plain": "규제 없음",
        "reg_dropout": "드롭아웃",
        "reg_decay": "가중치 감쇠",
        "reg_run": "실행",
        "reg_train_acc": "학습 정확도",
        "reg_test_acc": "시험 정확도",
        "reg_gap": "차이",
        "reg_gaps_empty": "시작을 눌러 네 실행을 학습하고 차이를 재 보세요.",
        "bp_intro": "역전파는 CNN이 필터를 배우는 방법입니다: 손실의 기울기를 출력에서 입력 쪽으로 층마다 넘기고(연쇄 "
                    "법칙), 모든 가중치가 자기 기울기의 반대 방향으로 움직입니다. 전부 읽을 수 있을 만큼 작은 "
                    "신경망이며, 마우스를 올리면 숫자가 보입니다.",
        "bp_label": "그린 숫자의 정답",
        "bp_seed": "가중치 시드",
        "bp_chain_title": "순전파 텐서(왼쪽)와 그 기울기 ∂L/∂·(오른쪽), 손실에서 입력 쪽으로",
        "bp_loss": "정답 {label}; softmax 확률 ({probs}); 교차 엔트로피 손실 L = {loss}",
        "bp_tensor": "{name}",
        "bp_rule_loss": "softmax 교차 엔트로피: ∂L/∂z = softmax(z) − 원-핫(정답), 예측 확률에서 정답을 뺀 값.",
        "bp_rule_dense": "완전연결층: ∂L/∂a = ∂L/∂z · Wᵀ (입력마다 자기가 연결된 모든 노드의 기울기를 모음); 커널의 "
                         "기울기는 aᵀ · ∂L/∂z.",
        "bp_rule_flatten": "Flatten: 같은 숫자를 3×3×2 모양으로 되돌림.",
        "bp_rule_pool": "최대 풀링: 기울기는 창에서 최대값으로 뽑힌 화소 하나로 가고 나머지는 0 (평균 풀링은 고르게 "
                        "나눔).",
        "bp_rule_relu": "ReLU: 컨볼루션 출력이 0보다 컸던 곳에서만 기울기가 지나가고, ReLU가 0으로 자른 곳에서는 멈춤.",
        "bp_rule_conv": "컨볼루션: 출력 화소마다 기울기를 3×3 커널을 거쳐 자기 창으로 돌려보냄; 커널의 기울기는 36개 "
                        "창 모두에서 입력 × 기울기를 더한 값.",
        "bp_weights_dense": "완전연결층 커널 W (18×3)와 ∂L/∂W",
        "bp_weights_conv": "컨볼루션 커널 (3×3 필터 2개)과 ∂L/∂K: 가중치의 기울기를 눌러 보세요",
        "bp_terms_heading": "공유된 가중치 하나의 기울기가 만들어지는 과정",
        "bp_terms_input": "입력: 이 가중치 아래에 오는 부분",
        "bp_terms_upstream": "위에서 온 기울기",
        "bp_terms_upstream_f": "∂L/∂conv, 필터 {f}",
        "bp_terms_title": "∂L/∂K[{di}, {dj}, 0, {f}]",
        "bp_terms_rule": "같은 가중치가 출력 화소 {n}개의 창 모두에 쓰이므로(가중치 공유), 그 기울기는 (그 아래 입력 "
                         "화소) × (그 출력 화소의 기울기)를 모두 더한 값입니다. 입력 화소들은 {top}행, {left}열부터의 "
                         "강조된 부분입니다.",
        "bp_terms_more": " + … (그 밖에 {n}개)",
        "bp_terms_zeros": "항 {n}개는 0입니다 (ReLU나 최대 풀링이 그곳으로 기울기를 보내지 않음).",
        "bp_terms_core": "코어의 역전파가 계산한 ∂L/∂K: {value}",
        "bp_route_title": "최대 풀링과 평균 풀링: 기울기가 가는 곳 (같은 입력, 같은 기울기)",
        "bp_route_input": "ReLU 출력, 필터 {f}",
        "bp_route_arriving": "3×3 풀링 결과에 도착한 기울기",
        "bp_route_max": "최대 풀링이 보내는 곳",
        "bp_route_avg": "평균 풀링이 보내는 곳",
        "bp_check_title": "유한 차분으로 확인하기",
        "bp_check_help": "가중치 하나를 ±ε만큼 움직여 손실을 재고(float64), (L(w+ε) − L(w−ε)) / 2ε를 역전파의 기울기와 "
                         "비교합니다. 이 신경망에서 고른 가중치, 또는 스튜디오에서 만들 수 있는 어떤 구조에도 됩니다 "
                         "(시험 숫자 8개; 스튜디오에 같은 구조가 있으면 학습한 가중치).",
        "bp_model_explorer": "이 신경망에서 고른 가중치",
        "bp_model_studio": "스튜디오 구조",
        "bp_check_layer": "층",
        "bp_check_index": "커널 인덱스",
        "bp_check": "유한 차분으로 확인",
        "bp_check_hint": "버튼을 누르면 역전파와 유한 차분을 비교합니다.",
        "bp_check_result": "수치 미분 {numerical} · 역전파 {backprop} · 상대 오차 {error} (ε = {eps:g})",
        "bp_sgd_title": "SGD 한 단계 직접 해 보기",
        "bp_sgd": "SGD 한 단계",
        "bp_step_hint": "모든 가중치가 −학습률 × 기울기만큼 움직입니다; 고른 가중치를 보여 줍니다.",
        "bp_step_result": "w = {w} − {lr} × {g} = {new}; 손실 {before} → {after}",
        "bp_no_data": "MNIST 숫자를 아직 불러오지 못해서 그린 1을 보여 줍니다. 잠시 뒤 이 탭을 다시 열어 보세요.",
        # convolution lab
        "image": "예제 사진",
        "upload": "…또는 내 사진 올리기 (PNG/JPEG)",
        "filter": "필터",
        "extra_filters": "같은 층의 필터 더하기 (필터마다 특징 맵 하나)",
        "size": "크기 h",
        "sigma": "시그마 σ",
        "custom_size": "커널 크기",
        "stride": "보폭",
        "padding": "덧대기",
        "padding_valid": "없음 (valid)",
        "padding_same": "0 덧대기 (same)",
        "bias": "바이어스 b",
        "copy_to_custom": "이 커널을 복사해서 고치기",
        "input_plot": "입력 {h}×{w}×1",
        "output_plot": "특징 맵 {name}: {h}×{w}",
        "kernel_title": "커널 {name} ({h}×{w})",
        "f_gaussian": "가우시안 스무딩",
        "f_box": "박스 (평균)",
        "f_sharpen": "선명하게",
        "f_emboss": "엠보스",
        "f_laplacian": "라플라시안",
        "f_sobel_x": "소벨 x",
        "f_sobel_y": "소벨 y",
        "f_sobel": "소벨 에지 크기",
        "f_canny": "케니 에지",
        "f_custom": "내 커널 (칸마다 고치기)",
        "nonlinear_note": "{name}은(는) 컨볼루션 한 번이 아니므로 보폭, 덧대기, 바이어스가 적용되지 않습니다 "
                          "(보폭 1, 같은 크기 출력).",
        "sobel_note": "소벨 에지 크기 = √(gx² + gy²): 소벨 x와 소벨 y 두 컨볼루션을 화소마다 합칩니다:",
        "canny_note": "케니 에지는 여러 단계 알고리즘입니다 (가우시안 스무딩, 소벨 기울기, 비최대 억제, "
                      "이력 임계값): 이 화소를 만든 내적은 하나가 아닙니다.",
        "numbers_title": "층의 연산량",
        "numbers_output": "출력 모양: {ho}×{wo}×{f} (k′ = {f}: 필터 하나당 특징 맵 하나)",
        "numbers_params": "가중치 k′(k·h·h+1) = {formula} = {params:,}개 (가중치 공유: 모든 화소가 같은 필터를 씁니다)",
        "numbers_mults": "곱셈 수: {formula} = {mults:,}번",
        "numbers_fc": "완전연결층이라면 이 입력에 입력 노드 {inputs:,}개가 필요하고, 같은 출력 {outputs:,}개를 "
                      "만들려면 가중치 {fc_params:,}개가 필요합니다.",
        "numbers_lecture": "강의의 예: 256×256×3 영상을 입력하려면 입력 노드 {inputs:,}개가 필요합니다.",
        "numbers_nonlinear": "{name}: 학습하는 컨볼루션 층이 아닙니다 (가중치 없음).",
        "dot_title": "{name}의 출력 화소 ({i}행, {j}열)",
        "dot_window": "수용장: 입력 {top}…{bottom}행, {left}…{right}열",
        "dot_padding_note": "(영상 밖의 칸은 0 덧대기)",
        "dot_mirror_note": "(영상 밖의 칸은 가장자리를 거울처럼 비춘 값, 코어의 소벨과 같음)",
        "dot_sum": "Σ 입력 × 커널 = {total} ; + 바이어스 {bias} = {output}",
        "dot_hint": "특징 맵의 화소를 누르면 어떻게 계산되었는지 보입니다.",
        "export_kernel": "이 커널을 NumPy로 (파이썬에 붙여 넣으세요):",
        "export_png": "특징 맵 내려받기 (.png)",
        "notice_downscaled": "영상이 {h0}×{w0}이어서 평균 풀링 ({f}×{f})으로 {h}×{w}로 줄였습니다.",
        "notice_loaded": "{name} 불러옴: {h}×{w}.",
        "err_upload": "“{name}”을(를) PNG나 JPEG 영상으로 읽을 수 없습니다 ({why}). 이전 영상을 그대로 둡니다.",
        "why_no_pil": "영상을 읽는 Pillow가 여기에는 없습니다",
        "why_empty": "빈 파일입니다",
        "why_format": "{format} 파일이며 PNG나 JPEG가 아닙니다",
        "why_not_image": "PNG나 JPEG 영상의 바이트가 아닙니다",
        "why_too_large": "풀면 화소가 너무 많아지는 파일입니다",
        "why_damaged": "파일이 손상되었거나 잘렸습니다: {detail}",
        "why_unknown_filter": "모르는 필터 {name}; 다음 중에서 고르세요: {names}",
        "why_custom_shape": "내 커널은 3×3이나 5×5여야 하는데 {shape}입니다",
        "why_empty_field": "{field} 칸이 비었습니다; 수를 넣으세요",
        "why_not_number": "{field}에는 수가 필요한데 {value}입니다",
        "why_range": "{field}은(는) {lo}에서 {hi} 사이여야 하는데 {value}입니다",
        "why_whole": "{field}은(는) {lo}에서 {hi} 사이의 정수여야 하는데 {value}입니다",
        "why_odd": "{field}은(는) {lo}에서 {hi} 사이의 홀수여야 하는데 {value}입니다",
        "why_choice": "{field}은(는) {names} 중 하나여야 하는데 {value}입니다",
        "why_cells": "내 커널의 칸은 -{limit}에서 {limit} 사이의 수여야 합니다",
        "why_too_many_filters": "한 층에 더할 수 있는 필터는 {n}개까지인데 {got}개입니다",
        "why_overflow": "{name}의 특징 맵이 넘칩니다 (float32 범위를 넘는 값)",
        "why_file_too_big": "파일이 {mb} MB입니다; 이 실습은 {limit} MB까지 읽습니다",
        "why_too_many_pixels": "{w}×{h} 화소입니다; 이 실습은 {limit}백만 화소까지 읽습니다",
        "notice_decoded": "{name}은(는) {h0}×{w0}이어서 {h}×{w}로 줄여 읽었습니다 (화소마다 {f}×{f}의 평균).",
        "err_settings": "이 설정으로는 계산할 수 없습니다: {why}. 마지막으로 성공한 결과를 보여 줍니다.",
        "url_failed": "링크의 설정들이 함께 맞지 않아서({why}) 기본값을 보여 줍니다.",
        "url_field_refused": "링크의 {name}은(는) 쓰지 않았습니다: {why}.",
        "url_studio_notices": "링크의 설정을 모두 쓰지는 못했습니다: {notices}",
        # pooling lab
        "pool_source": "풀링할 대상",
        "pool_src_input": "입력 영상",
        "pool_src_map": "컨볼루션 특징 맵",
        "pool_kind": "풀링",
        "pool_max": "최대 풀링",
        "pool_avg": "평균 풀링",
        "pool_size": "풀링 크기",
        "pool_stride": "보폭",
        "pool_input_plot": "입력 {h}×{w}",
        "pool_winners": "창마다 최대값으로 뽑힌 화소를 빨강으로 표시",
        "pool_output_plot": "풀링 결과 {h}×{w}",
        "pool_numbers": "{h}×{w} → {ho}×{wo}: 풀링층은 가중치가 없고, 깊이는 그대로 두고 맵의 크기를 줄입니다.",
        "pool_detail_max": "창 {top}…{bottom}행, {left}…{right}열: 최대값 = {output}, 입력 화소 "
                           "({r}행, {c}열)에서 옴",
        "pool_detail_avg": "창 {top}…{bottom}행, {left}…{right}열: 값 {n}개의 평균 = {output}",
        "pool_hint": "풀링 결과의 화소를 누르면 그 창이 보입니다.",
        "pool_photo_plot": "사진 위의 수용장",
        "pool_field": "사진에서 이 풀링 화소의 수용장은 {top}…{bottom}행, {left}…{right}열, {h}×{w} 화소로, 특징 맵 "
                      "화소 하나의 {kh}×{kw}보다 넓습니다 (층이 깊을수록 수용장이 커집니다).",
        # LeNet studio
        "intro": "LeNet-5(C-P-C-P-C-FC-FC, 가중치 61,706개)를 실제 MNIST 숫자로 학습시키며, 역전파로 필터를 스스로 "
                 "배우는 모습을 지켜보세요. 그다음 숫자를 직접 그려 무엇으로 인식하는지 보세요.",
        "arch_title": "구조 (한 줄에 Keras 층 하나; 입력 32×32×1, 마지막 층은 점수 10개)",
        "arch_apply": "구조 적용",
        "arch_lenet": "LeNet-5로 되돌리기",
        "arch_add": "마지막 층 앞에 추가",
        "col_layer": "층", "col_kind": "종류", "col_shape": "출력 모양", "col_params": "가중치 수",
        "col_mults": "곱셈 수",
        "total": "합계",
        "loss": "손실 함수",
        "loss_categorical_crossentropy": "교차 엔트로피",
        "loss_mse": "평균 제곱 오차 (MSE)",
        "loss_focal": "Focal 손실",
        "gamma": "Focal γ",
        "alpha": "Focal α (비우면 가중치 없음)",
        "optimizer": "옵티마이저",
        "opt_sgd": "SGD", "opt_momentum": "SGD + 모멘텀", "opt_nesterov": "SGD + 네스테로프 모멘텀",
        "opt_adagrad": "AdaGrad", "opt_rmsprop": "RMSprop", "opt_adam": "Adam",
        "learning_rate": "학습률",
        "momentum": "모멘텀",
        "rho": "RMSprop ρ",
        "beta_1": "Adam β₁",
        "beta_2": "Adam β₂",
        "batch_size": "배치 크기",
        "epochs": "에포크",
        "train_size": "학습 이미지 수",
        "dropout": "마지막 층 앞 드롭아웃",
        "seed": "시드",
        "imbalanced": "불균형 MNIST: 숫자 5-9는 10%만 사용 (Focal 손실을 써 보세요)",
        "start": "시작", "pause": "일시 정지", "resume": "계속", "stop": "정지", "reset": "가중치 초기화",
        "save": "가중치 저장 (.npz)", "load": "가중치 불러오기 (.npz, 스튜디오나 학습 스크립트에서 만든 파일)",
        "export_zip": "파이썬 코드로 내보내기 (.zip)",
        "code_title": "이 모델을 파이썬 코드로 (내보낸 스크립트, 옆에는 Keras)",
        "code_core": "놀이터의 core로 (내보내기의 studio_model.py)",
        "code_keras": "같은 모델을 Keras(TensorFlow)로",
        "status_ready": "준비", "status_running": "학습 중", "status_paused": "일시 정지", "status_stopped": "정지됨",
        "status_done": "완료", "status_diverged": "정지: 발산",
        "status_line": "{status} · 에포크 {epoch}/{epochs} · 이미지 {images:,}장 학습 · 초당 {ips:,.0f}장 · "
                       "테스트 정확도 {acc}",
        "msg_done": "학습 완료: 에포크 {epochs}회, 이미지 {images:,}장.",
        "msg_stopped": "이미지 {images:,}장 뒤에 학습을 멈췄습니다. 지금까지 학습한 가중치는 그대로 있습니다.",
        "msg_diverged": "이미지 {images:,}장 뒤에 손실이 {loss:.3g}(으)로 폭발했습니다: {optimizer}에 학습률 {lr:g}은(는) "
                        "너무 큽니다. 학습을 멈추고 마지막으로 정상이던 가중치로 되돌렸습니다. 학습률을 줄여 보세요.",
        "msg_nonfinite": "이미지 {images:,}장 뒤에 손실이 {loss}(숫자가 아님)이 되었습니다: {optimizer}에 학습률 {lr:g}은(는) "
                         "너무 큽니다. 학습을 멈추고 마지막으로 정상이던 가중치로 되돌렸습니다. 학습률을 줄여 보세요.",
        # training.py (issue 11): a NaN/inf gradient while the loss was still finite (core.step names the weight)
        "msg_nonfinite_grad": "이미지 {images:,}장 뒤에 {weight}의 기울기가 NaN/inf가 되었습니다(손실은 {loss:.3g}): "
                              "{optimizer}에 학습률 {lr:g}은(는) 너무 큽니다. 학습을 멈추고 마지막으로 정상이던 "
                              "가중치로 되돌렸습니다. 학습률을 줄여 보세요.",
        "msg_loaded": "{name}을(를) 불러왔습니다: 가중치 {params:,}개. 시작을 누르면 이어서 학습합니다.",
        "err_config": "이 설정은 쓸 수 없습니다: {why}. 아무것도 바뀌지 않았습니다.",
        "err_load": "가중치 파일을 불러올 수 없습니다: {why}. 지금 모델은 그대로입니다.",
        "err_no_data": "MNIST 부분 집합이 없어서({why}) 여기서는 학습할 수 없습니다.",
        "loading_data": "MNIST 숫자를 불러오는 중…",
        "err_internal": "예상하지 못한 오류로 학습을 일시 정지했습니다 ({why}). 정지하거나 계속을 눌러 다시 시도하세요.",
        "err_draw": "{why}",
        "curve_loss": "손실", "curve_acc": "정확도", "legend_train": "학습", "legend_val": "테스트",
        "x_images": "학습한 이미지 수",
        "filters_title": "첫 층의 필터 ({name}: {h}×{w} 필터 {n}개)",
        "no_conv": "이 구조에는 컨볼루션 층이 없어서 보여 줄 필터가 없습니다.",
        "maps_title": "모든 층의 특징 맵: 신경망이 보는 입력, 그다음 층마다의 출력",
        "maps_source": "입력",
        "src_test": "테스트 이미지", "src_drawing": "내가 그린 숫자",
        "test_index": "테스트 이미지 번호",
        "input_title": "입력 32×32 (정답 {label})",
        "input_title_drawing": "내 숫자 (32×32)",
        "map_title": "{name} {shape}",
        "confusion_title": "테스트 이미지 {n:,}장의 혼동 행렬 (행: 정답, 열: 예측)",
        "confusion_empty": "혼동 행렬은 첫 에포크가 끝나거나 학습을 멈추면 나타납니다.",
        "recall": "재현율",
        "mis_title": "잘못 분류한 테스트 이미지 (정답 → 예측), {total}장 중 {n}장",
        "draw_title": "숫자 그리기",
        "draw_help": "상자 안에서 끌어서 그리세요 (MNIST처럼 검은 바탕에 흰 글씨).",
        "draw_clear": "지우기",
        "draw_empty": "숫자를 그리면 예측이 나옵니다.",
        "prediction": "예측: {digit} (확신 {p:.0%})",
        "probs_title": "클래스별 확률",
        # Networks tab (playground/networks*.py)
        "tab_networks": "신경망 구조",
        "nets_intro": "강의에 나온 다른 신경망들을 여기서 직접 학습하고 바로 측정합니다: 다층 퍼셉트론과 컨볼루션 신경망, "
                      "사람이 설계한 필터와 학습한 필터, 오토인코더, 영상 분할 신경망.",
        "nets_status": "{status} · {what}",
        "nets_stage_ready": "시작을 누르세요",
        "nets_stage_train": "{model}: 에포크 {epoch}/{epochs}",
        "nets_stage_shift": "{model}: {k}픽셀 옮긴 숫자로 시험 중",
        "nets_stage_done": "측정 완료",
        "nets_msg_done": "완료: 아래 숫자는 모두 이번 실행에서 측정한 것입니다.",
        "nets_msg_stopped": "정지: 지금까지 측정한 것은 아래에 남아 있습니다.",
        "nets_err_internal": "예상하지 못한 오류로 멈췄습니다 ({why}). 지금까지 측정한 것은 아래에 남아 있습니다.",
        "nets_msg_gradient": "이미지 {images:,}장 뒤에 {weight}의 기울기가 NaN/inf가 되었습니다(손실은 {loss:.3g}): "
                             "{optimizer}에 학습률 {lr:g}은(는) 너무 큽니다. 학습을 멈추고 마지막으로 좋았던 가중치로 "
                             "되돌렸습니다. 학습률을 줄여 보세요.",
        "nets_no_data": "MNIST 부분 집합이 없어서({why}) 여기서는 이 신경망들을 학습할 수 없습니다.",
        "model_mlp": "다층 퍼셉트론", "model_cnn": "컨볼루션 신경망 (LeNet-5)",
        "model_frozen": "설계한 C1, 고정", "model_designed": "설계한 C1, 학습",
        "model_learned": "무작위 가중치에서 학습한 C1",
        "f_random": "무작위",
        "nets_col_model": "모델", "nets_col_weights": "가중치", "nets_col_shift": "{k}픽셀 이동",
        "nets_col_filter": "필터", "nets_col_nearest": "가장 가까운 설계 필터", "nets_col_epoch": "에포크 {e}",
        "nets_mlp_title": "다층 퍼셉트론(MLP)과 컨볼루션 신경망(CNN)",
        "nets_mlp_intro": "다층 퍼셉트론은 영상을 1차원으로 펼쳐 입력하므로 2차원 구조를 잃습니다. 컨볼루션 신경망은 작은 "
                          "필터를 영상 위로 옮기며(가중치 공유) 풀링합니다. 둘 다 같은 숫자 영상으로, 비슷한 수의 "
                          "가중치로 학습한 뒤 시험 숫자를 몇 픽셀 옮겨 봅니다.",
        "nets_mlp_arith": "256×256×3 영상을 다층 퍼셉트론에 넣으려면 입력 노드가 {inputs:,}개 필요합니다. 100개 "
                          "노드의 완전연결층 하나만으로 가중치가 {dense:,}개입니다. 3×3 필터 64개의 컨볼루션층은 "
                          "영상 크기와 상관없이 {conv:,}개입니다({ratio:,.0f}배 적음).",
        "nets_mlp_shifted": "0-4픽셀 옮긴 시험 숫자",
        "nets_mlp_shift_title": "옮긴 숫자에 대한 시험 정확도",
        "nets_mlp_shift_x": "옮긴 픽셀 수 (네 방향 평균)",
        "nets_filters_title": "사람이 설계한 필터와 학습한 필터",
        "nets_filters_intro": "예전에는 사람이 필터를 설계했습니다(가우시안 스무딩, 소벨 에지, 라플라시안). 컨볼루션 "
                              "신경망은 데이터에 맞는 최적의 필터를 학습합니다. 같은 시드에서 LeNet-5를 세 번 "
                              "학습합니다: C1을 설계한 필터로 두고 고정(trainable=False), 같은 필터에서 시작해 학습, "
                              "무작위 가중치에서 학습.",
        "nets_filters_starts": "C1 필터",
        "nets_filters_acc_title": "에포크마다 시험 정확도",
        "nets_filters_tiles": "C1의 필터",
        "nets_filters_rows": "줄: 필터의 시작; 학습 뒤; 각 필터와 가장 가까운 설계 필터.",
        "nets_filters_empty": "시작을 눌러 학습하고 필터를 비교하세요.",
        "model_ae": "오토인코더", "model_seg": "영상 분할 신경망",
        "nets_ae_title": "오토인코더: 입력과 출력이 같은 신경망",
        "nets_ae_intro": "오토인코더는 레이블 없이(비지도 학습) 좁은 코드를 거쳐 입력을 그대로 돌려주도록 학습합니다. "
                         "인코더는 숫자를 몇 개의 수로 줄이고, 디코더는 그 수로 숫자를 다시 그립니다. 손실 함수는 "
                         "영상과 복원한 영상 사이의 평균제곱오차입니다.",
        "nets_ae_code_size": "코드 크기 (수의 개수)",
        "nets_ae_loss_title": "복원 손실",
        "nets_ae_mse": "화소당 평균제곱오차",
        "nets_ae_pairs": "시험 숫자(위)와 복원한 숫자(아래)",
        "nets_ae_code": "코드: 화소 {pixels}개를 수 {size}개로 ({ratio:.0f}배 적음). 숫자의 코드에서 두 값을 옮겨 "
                        "디코더가 무엇을 그리는지 보세요:",
        "nets_ae_empty": "시작을 눌러 학습하세요. 첫 시험 뒤에 코드가 나타납니다.",
        "nets_ae_digit": "시험 숫자 #",
        "nets_ae_unit": "코드 성분 {which}",
        "nets_ae_value": "성분 {which}의 값",
        "nets_ae_decoded": "디코딩 결과",
        "nets_seg_title": "영상 분할: 화소마다 부류 하나",
        "nets_seg_intro": "영상 분할 신경망은 화소마다 부류를 붙입니다. 여기서는 배경 또는 그 화소가 속한 숫자입니다. "
                          "마스크는 MNIST 숫자 자체에서 만듭니다(절반보다 밝은 잉크). 인코더-디코더 구조: 풀링으로 "
                          "숫자 전체를 보고, 전치 컨볼루션으로 맵을 다시 키우고, 건너뛰는 연결로 세부를 가져옵니다.",
        "nets_seg_variant": "영상",
        "nets_seg_single": "숫자 하나, 28×28", "nets_seg_pairs": "숫자 둘, 56×56",
        "nets_seg_inputs": "시험 영상",
        "nets_seg_masks": "정답 마스크(위), 예측(아래)",
        "nets_seg_iou_title": "부류별 IoU (교집합 / 합집합)",
        "nets_seg_mean_title": "숫자 부류의 평균 IoU",
        "nets_seg_mean": "평균 IoU (숫자)",
        # story and settings in the URL (U-story: playground/story.py, playground/urlstate.py, app.py)
        "tab_story": "이야기",
        "url_copy": "링크 복사",
        "url_notice_head": "이 링크의 설정을 모두 쓰지는 못했습니다. 나머지는 기본값입니다:",
        "url_notice_close": "닫기",
        "url_too_long": "링크의 설정이 {n:,}자로 너무 길어서 (최대 {max:,}자) 읽지 않았습니다.",
        "url_too_many": "링크의 부분이 {max}개보다 많아서 처음 {max}개만 읽었습니다.",
        "url_unknown_key": "모르는 설정 “{name}”은(는) 무시했습니다.",
        "url_unknown_tab": "“{name}” 탭은 없습니다 (탭: {names}).",
        "url_unknown_lang": "모르는 언어 “{name}”입니다 (언어: {names}).",
        "url_bad_settings": "설정을 읽을 수 없었습니다 ({why}).",
        "url_refused": "설정 “{name}” = {value}은(는) 쓰지 않았습니다 (가능한 값: {allowed}).",
        "story_heading": "CNN은 어떻게 보는가: 강의를 아홉 걸음으로",
        "story_intro": "걸음마다 강의의 생각 하나를 그림과, 이 놀이터의 코어가 계산한 숫자와, 직접 해 볼 수 있는 "
                       "실험실로 가는 링크로 보여 줍니다.",
        "story_mlp_title": "1. 다층 퍼셉트론(MLP)의 한계",
        "story_mlp_text": "다층 퍼셉트론은 벡터를 입력받으므로 2차원 구조의 영상을 1차원으로 펼쳐서 넣어야 합니다. "
                          "이웃한 화소가 멀리 떨어지고 2차원 구조를 잃어 적지 않은 정보가 사라집니다. 사람은 "
                          "수용장이라는 작은 2차원 영역에서 특징을 추출하는데 말입니다. 매개변수도 너무 많습니다: "
                          "256×256×3 컬러 영상을 입력하려면 입력 노드 {inputs:,}개가 필요하고, 첫 완전연결층의 "
                          "노드마다 그 모두에 가중치가 하나씩 있습니다.",
        "story_mlp_result": "{size} → 펼치기(Flatten) → 입력 {inputs:,}개; 그 위의 Dense({units})에는 가중치 "
                            "{params:,}개가 필요합니다.",
        "story_side": "영상 한 변",
        "story_grey": "흑백 (1)",
        "story_rgb": "컬러 (3)",
        "story_units": "Dense 노드 수",
        "story_filters_title": "2. 사람이 설계한 필터, 아니면 학습한 필터?",
        "story_filters_text": "보통은 사람이 필터를 설계합니다: 가우시안 스무딩, 소벨 에지, 케니 에지. 그런데 이 "
                              "필터는 어디서 왔을까요? 인식에 최적일까요? 데이터셋마다 그에 맞는 최적의 필터를 "
                              "써야 하지 않을까요? CNN의 핵심 아이디어는 최적의 필터를 학습으로 알아내는 것입니다.",
        "story_receptive_title": "3. 수용장",
        "story_receptive_text": "컨볼루션 신경망은 인간의 시각을 모방합니다: 출력 화소 하나는 입력의 작은 창, 곧 "
                                "수용장(receptive field)에서 계산됩니다. 층을 쌓으면 더 넓게 봅니다: 3×3 층 두 "
                                "개만 쌓아도 입력 {rf}×{rf} 화소를 봅니다.",
        "story_receptive_result": "{k}×{k} 층 {layers}개를 쌓으면 출력 화소 하나가 입력 {size}×{size} 화소를 봅니다.",
        "story_layers": "쌓은 층 수",
        "story_sharing_title": "4. 가중치 공유와 부분 연결성",
        "story_sharing_text": "컨볼루션 층은 필터를 여러 개 써서 다양한 특징을 추출하고, 필터 하나는 바이어스 하나를 "
                              "가지며, 필터 n개는 특징 맵 n개를 냅니다. 특징 맵의 모든 화소가 같은 필터를 쓰니 "
                              "가중치를 공유하는 셈이고(가중치 공유), 필터는 해당 화소 주위에서만 연산합니다(부분 "
                              "연결성). 그래서 h×h×k 필터 k′개의 가중치는 영상이 아무리 커도 k′(k·h·h+1)개뿐입니다.",
        "story_sharing_result": "Conv2D: k′(k·h·h+1) = {k2}({k}·{h}·{h}+1) = 가중치 {conv:,}개. {side}×{side}×{k}에서 "
                                "{side}×{side}×{k2}로 가는 완전연결층이라면 {dense:,}개, 곧 {ratio:,}배가 필요합니다.",
        "story_in_channels": "입력 채널 k",
        "story_filters_count": "필터 수 k′",
        "story_cost_title": "5. 컨볼루션 층의 연산량",
        "story_cost_text": "강의의 예: 256×256×3 입력에 0 덧대기하고 보폭 2로 3×3 필터 64개를 쓰고, 다시 0 덧대기하고 "
                           "보폭 2로 5×5 필터 128개를 씁니다. 출력 값 하나는 가중치마다 곱셈 한 번(바이어스도 한 "
                           "번으로 셈)이 드니, 곱셈이 {mults1:,}번, 그리고 {mults2:,}번입니다.",
        "story_cost_row": "{name}: {inp} → {out}; {ho}·{wo}·{per}·{f} = 곱셈 {mults:,}번 ({per} = {h}·{w}·{k}+1)",
        "story_pooling_title": "6. 풀링",
        "story_pooling_text": "풀링 층은 창마다 값을 요약합니다: 최대 풀링은 창 안 화소의 최대값을, 평균 풀링은 "
                              "평균을 취합니다. 지나친 상세함을 줄이고 특징 맵의 크기를 줄이는 효과가 있으며, "
                              "가중치가 없고 텐서의 깊이는 그대로 유지됩니다.",
        "story_pooling_result": "{kind}: 2×2 창 네 개의 결과 {values}",
        "story_lenet_title": "7. 빌딩 블록 쌓기: LeNet-5",
        "story_lenet_text": "보통 컨볼루션층과 풀링층을 번갈아 쌓습니다. 신경망의 앞부분은 특징 추출, 뒷부분은 분류를 "
                            "담당합니다. LeNet-5는 C-P-C-P-C-FC-FC, 모두 {total:,}개의 가중치입니다.",
        "story_lenet_conv": "{name} (컨볼루션층): ({h}·{w}·{k}+1)·{f} = {params:,}",
        "story_lenet_dense": "{name} (완전연결층): ({k}+1)·{f} = {params:,}",
        "story_lenet_total": "총 {total:,}개의 가중치",
        "story_learning_title": "8. 컨볼루션 신경망의 학습",
        "story_learning_text": "컨볼루션 신경망도 역전파 학습 알고리즘으로 학습합니다. 컨볼루션층의 커널 화소와 "
                               "완전연결층의 에지가 가중치에 해당하고 풀링층에는 가중치가 없으며, 학습 알고리즘은 "
                               "주어진 데이터셋을 인식하는 데 최적인 필터를 알아냅니다. 무엇을 줄일지는 손실 "
                               "함수(교차 엔트로피, 평균제곱오차, 불균형 데이터를 위한 focal 손실)가, 어떻게 나아갈지는 "
                               "옵티마이저(SGD, 모멘텀, AdaGrad, RMSprop, Adam)가 정하고, 규제(드롭아웃, 가중치 "
                               "감쇠)는 외워 버리는 것을 막습니다. 같은 블록으로 다른 모양도 조립합니다: "
                               "오토인코더(입력과 출력이 같은 신경망)와 영상 분할 신경망.",
        "story_history_title": "9. 딥러닝은 왜 성공했나",
        "story_history_text": "인간의 수용장을 모방하는 신경망은 오래된 생각입니다. 2010년 무렵 달라진 것은 인터넷으로 "
                              "커진 데이터셋, GPU로 값싸게 가능해진 병렬 처리, 그리고 학습 알고리즘의 발전입니다. "
                              "점을 가리키면 설명이 나옵니다.",
        "story_year": "연도",
        "story_lane_cnn": "CNN의 이정표",
        "story_lane_why": "성공 요인",
        "story_tl_neocognitron": "네오코그니트론",
        "story_tl_neocognitron_detail": "후쿠시마의 신경망: 시각 피질의 단순 세포와 복잡 세포를 본뜸",
        "story_tl_lenet": "LeNet-5",
        "story_tl_lenet_detail": "르쿤의 논문: 수표의 손글씨 금액을 읽는 자동 입력 시스템",
        "story_tl_imagenet": "ImageNet, ILSVRC",
        "story_tl_imagenet_detail": "ImageNet 데이터셋이 탄생하고 ILSVRC 대회가 시작됨",
        "story_tl_alexnet": "AlexNet: 15.3% 오류율",
        "story_tl_alexnet_detail": "ILSVRC 2012에서 top-5 오류율 15.3%로 우승, 이후 CNN에 대한 관심이 커짐",
        "story_tl_vgg": "VGG, GoogLeNet",
        "story_tl_vgg_detail": "더 깊은 신경망: 작은 3×3 필터를 쌓은 VGG, 인셉션 모듈의 GoogLeNet",
        "story_tl_gan": "GAN",
        "story_tl_gan_detail": "생성 모델: 생성자와 판별자가 서로 겨루며 학습하는 생성적 적대 신경망",
        "story_tl_resnet": "ResNet",
        "story_tl_resnet_detail": "잔차 연결로 100층이 넘는 신경망도 학습됨; ILSVRC 2015 우승",
        "story_tl_gpu": "GPU (CUDA)",
        "story_tl_gpu_detail": "그래픽 카드가 범용 병렬 컴퓨터가 됨: 값싼 병렬 처리",
        "story_tl_data": "큰 데이터셋",
        "story_tl_data_detail": "인터넷으로 커진 데이터셋: ImageNet 대회에는 레이블이 붙은 사진이 백만 장 넘게 있음",
        "story_tl_relu": "ReLU",
        "story_tl_relu_detail": "max(0, x): 기울기가 사라지지 않는 간단한 활성 함수",
        "story_tl_crossentropy": "교차 엔트로피",
        "story_tl_crossentropy_detail": "AlexNet이 최소화한 분류 손실 함수 (소프트맥스와 교차 엔트로피)",
        "story_tl_dropout": "드롭아웃",
        "story_tl_dropout_detail": "학습 중 노드를 무작위로 끄는 규제 기법",
        "story_tl_adam": "Adam",
        "story_tl_adam_detail": "모멘텀과 가중치마다 적응적인 학습률을 쓰는 옵티마이저",
        "story_try_networks": "신경망 실험실에서 MLP와 CNN 비교하기",
        "story_try_conv_numbers": "컨볼루션 실험실에서 사진 한 장의 층 연산량 보기",
        "story_try_sobel": "사진에 소벨 x 필터 적용하기",
        "story_try_canny": "사진에 케니 에지 적용하기",
        "story_try_learned": "LeNet 학습에서 MNIST로 학습한 필터 보기",
        "story_try_receptive": "5×5 가우시안 특징 맵의 화소를 눌러 수용장 보기",
        "story_try_sharing": "한 층에 필터 세 개, 특징 맵 세 개",
        "story_try_cost": "컨볼루션 실험실에서 0 덧대기와 보폭 2",
        "story_try_max": "풀링 실험실에서 최대 풀링",
        "story_try_avg": "풀링 실험실에서 평균 풀링",
        "story_try_lenet": "LeNet-5 직접 학습시키기",
        "story_try_backprop": "역전파를 한 단계씩",
        "story_try_losses": "손실 함수 비교하기",
        "story_try_optimizers": "손실 곡면 위에서 옵티마이저 경주",
        "story_try_regularization": "과적합과 규제",
        "story_try_structures": "오토인코더와 영상 분할 신경망",
        "story_try_adam": "Adam과 다른 옵티마이저",
        "story_try_crossentropy": "교차 엔트로피와 평균제곱오차",
        "story_try_dropout": "과적합을 막는 드롭아웃",
        "story_soon": "(아직 만드는 중인 실험실)",
    },
}


def text(lang, key, **values):
    """The string `key` in `lang` (falling back to English), with {placeholders} filled from `values`."""
    table = STRINGS.get(lang, STRINGS[DEFAULT])
    template = table.get(key, STRINGS[DEFAULT][key])
    return template.format(**values) if values else template


def pick_language(accept_language):
    """'ko' or 'en' from an Accept-Language header ("ko-KR,ko;q=0.9,en;q=0.8") or navigator.language ("ko-KR").

    The first supported language in the client's order of preference wins; English if none.
    """
    ranked = []
    for n, part in enumerate((accept_language or "").split(",")):
        tag, _, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            weight = 0.0
        ranked.append((-weight, n, tag.split("-")[0].strip().lower()))
    for _, _, code in sorted(ranked):
        if code in STRINGS:
            return code
    return DEFAULT
