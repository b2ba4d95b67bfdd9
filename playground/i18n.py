"""Every string the playground shows, in Korean and English (terms from the lecture).

`text(lang, key, **values)` looks a string up and fills in {placeholders};
`pick_language(accept_language)` chooses "ko" or "en" from a browser's Accept-Language / navigator.language.
"""

LANGUAGES = {"ko": "한국어", "en": "English"}
DEFAULT = "en"

STRINGS = {
    "en": {
        "title": "CNN Playground",
        "subtitle": "Learn convolutional neural networks by touching them",
        "tab_conv": "Convolution",
        "tab_pool": "Pooling",
        "tab_studio": "LeNet studio",
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
        "numbers_params": "Weights k′(k·h·h+1) = {formula} = {params:,} (weight sharing: every pixel uses the same filter)",
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
        "lang": "Language",
    },
    "ko": {
        "title": "CNN 놀이터",
        "subtitle": "직접 만져 보며 배우는 컨볼루션 신경망",
        "tab_conv": "컨볼루션",
        "tab_pool": "풀링",
        "tab_studio": "LeNet 학습",
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
        "lang": "언어",
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
