"""Every string the playground shows (the labs and the LeNet studio), in Korean and English, with the lecture's terms.

    text(lang, key, **values)          # the string, {placeholders} filled; English if `lang` is unknown
    pick_language(accept_language)     # "ko" or "en" from Accept-Language / navigator.language

Keys are literals in the code (`t("stride")`), except five families built from a name the code holds:
`f_<filter>` (conv_lab.FILTERS), `loss_<loss>` and `opt_<optimizer>` (training.LOSSES, training.OPTIMIZERS),
`status_<status>` (the trainer's status) and `msg_<status>` (the trainer's message when a run ends).
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
        "why_not_finite": "kernel values and bias must be finite numbers",
        "why_empty_field": "size and sigma need a number (a field is empty)",
        "err_settings": "These settings do not work: {why}. The last good result is shown.",
        # pooling lab
        "pool_source": "Pool what",
        "pool_src_input": "the input image",
        "pool_src_map": "the convolution feature map",
        "pool_kind": "Pooling",
        "pool_max": "max pooling",
        "pool_avg": "average pooling",
        "pool_size": "Pool size",
        "pool_stride": "Stride",
        "pool_input_plot": "Input {h}×{w} (red: pixels that won a max)",
        "pool_input_plot_avg": "Input {h}×{w}",
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
        "maps_title": "Feature maps of every layer",
        "maps_source": "Input",
        "src_test": "a test image", "src_drawing": "my drawing",
        "test_index": "Test image #",
        "input_title": "Input 32×32 (label {label})",
        "input_title_drawing": "Your digit, as the network sees it",
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
    },
    "ko": {
        # the page
        "title": "CNN 놀이터",
        "subtitle": "직접 만져 보며 배우는 컨볼루션 신경망",
        "tab_conv": "컨볼루션",
        "tab_pool": "풀링",
        "tab_studio": "LeNet 학습",
        "lang": "언어",
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
        "why_not_finite": "커널 값과 바이어스는 유한한 수여야 합니다",
        "why_empty_field": "크기와 시그마에 수를 넣어야 합니다 (빈 칸이 있음)",
        "err_settings": "이 설정으로는 계산할 수 없습니다: {why}. 마지막으로 성공한 결과를 보여 줍니다.",
        # pooling lab
        "pool_source": "풀링할 대상",
        "pool_src_input": "입력 영상",
        "pool_src_map": "컨볼루션 특징 맵",
        "pool_kind": "풀링",
        "pool_max": "최대 풀링",
        "pool_avg": "평균 풀링",
        "pool_size": "풀링 크기",
        "pool_stride": "보폭",
        "pool_input_plot": "입력 {h}×{w} (빨강: 최대값으로 뽑힌 화소)",
        "pool_input_plot_avg": "입력 {h}×{w}",
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
        "maps_title": "모든 층의 특징 맵",
        "maps_source": "입력",
        "src_test": "테스트 이미지", "src_drawing": "내가 그린 숫자",
        "test_index": "테스트 이미지 번호",
        "input_title": "입력 32×32 (정답 {label})",
        "input_title_drawing": "신경망이 보는 내 숫자",
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
