"""Every string the LeNet training studio shows, in Korean and English (same shape as playground/i18n.py).

`text(lang, key, **values)` looks a string up (English if missing) and fills in {placeholders}.
"""

DEFAULT = "en"

STRINGS = {
    "en": {
        "tab_studio": "LeNet studio",
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
        "err_settings": "That setting does not work: {why}. Nothing was changed.",
        "err_load": "Could not load that weights file: {why}. Your current model is kept.",
        "err_no_data": "The MNIST subset is not available ({why}), so the studio cannot train here.",
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
        "tab_studio": "LeNet 학습 스튜디오",
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
        "err_settings": "이 설정은 쓸 수 없습니다: {why}. 아무것도 바뀌지 않았습니다.",
        "err_load": "가중치 파일을 불러올 수 없습니다: {why}. 지금 모델은 그대로입니다.",
        "err_no_data": "MNIST 부분 집합이 없어서({why}) 여기서는 학습할 수 없습니다.",
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
