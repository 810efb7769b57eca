<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>CanvasPanel</name>
    <message>
        <source>Fit</source>
        <translation>适应</translation>
    </message>
    <message>
        <source>Fit the image to the view (Ctrl+0)</source>
        <translation>缩放图像以适应视图（Ctrl+0）</translation>
    </message>
    <message>
        <source>Actual size (Ctrl+1); Ctrl+wheel zooms, dragging pans</source>
        <translation>实际大小（Ctrl+1）；Ctrl+滚轮缩放，拖动平移</translation>
    </message>
    <message>
        <source>Compare:</source>
        <translation>对比：</translation>
    </message>
    <message>
        <source>Off</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>Side by side</source>
        <translation>并排</translation>
    </message>
    <message>
        <source>Split</source>
        <translation>分割线</translation>
    </message>
    <message>
        <source>with the previous result</source>
        <translation>与上一张结果</translation>
    </message>
    <message>
        <source>with the selected history image</source>
        <translation>与历史中选中的图片</translation>
    </message>
    <message>
        <source>Where the line between the two images is (or drag the line)</source>
        <translation>两张图片之间分割线的位置（也可直接拖动分割线）</translation>
    </message>
    <message>
        <source>Nothing to compare with yet: finish a second image, or select one in the history.</source>
        <translation>还没有可对比的图片：再生成一张，或在历史中选择一张。</translation>
    </message>
    <message>
        <source>Select an image in the history to compare with.</source>
        <translation>请在历史中选择一张用于对比的图片。</translation>
    </message>
</context>
<context>
    <name>EnhanceFlow</name>
    <message>
        <source>The enhanced scene is in the Scene field; the poster prompt was composed again.</source>
        <translation>扩写后的场景已放入“场景”栏，海报提示词已重新组合。</translation>
    </message>
    <message>
        <source>Write a short idea first, then press Enhance (Ctrl+E).</source>
        <translation>请先写下简短的想法，再按“扩写”（Ctrl+E）。</translation>
    </message>
    <message>
        <source>Enhancing the prompt with the text encoder…</source>
        <translation>正在用文本编码器扩写提示词…</translation>
    </message>
    <message>
        <source>Enhanced in %1 s. Use it, edit it or discard it.</source>
        <translation>扩写完成，用时 %1 秒。可以使用、修改或放弃。</translation>
    </message>
    <message>
        <source>The enhanced prompt is in the prompt box; your own words are kept with the image.</source>
        <translation>扩写后的提示词已放入输入框；你的原话会随图片一起保存。</translation>
    </message>
</context>
<context>
    <name>EnhancePanel</name>
    <message>
        <source>Use this prompt</source>
        <translation>使用此提示词</translation>
    </message>
    <message>
        <source>Discard</source>
        <translation>放弃</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>The enhanced prompt appears here as it is written.</source>
        <translation>扩写的提示词会在这里逐字出现。</translation>
    </message>
    <message>
        <source>Enhancing…</source>
        <translation>正在扩写…</translation>
    </message>
    <message>
        <source>Enhanced prompt: edit it if you like, then use it or discard it. Shaded words were added.</source>
        <translation>扩写后的提示词：可以先修改，再使用或放弃。底色标出的是新增的词。</translation>
    </message>
    <message>
        <source>Stopped early: the prompt may be cut short.</source>
        <translation>已提前停止：提示词可能不完整。</translation>
    </message>
    <message>
        <source>Quoted text the rewrite had changed was put back: %1</source>
        <translation>扩写改动了引号中的文字，已恢复原文：%1</translation>
    </message>
</context>
<context>
    <name>GalleryView</name>
    <message>
        <source>Image copied.</source>
        <translation>图片已复制。</translation>
    </message>
    <message>
        <source>★ Favourites</source>
        <translation>★ 收藏</translation>
    </message>
    <message>
        <source>Show only favourites</source>
        <translation>只显示收藏</translation>
    </message>
    <message>
        <source>Add a folder of PNGs (this app, A1111/Forge, ComfyUI) to the history</source>
        <translation>把一个文件夹里的 PNG（本程序、A1111/Forge、ComfyUI 生成的）加入历史</translation>
    </message>
    <message>
        <source>More</source>
        <translation>更多</translation>
    </message>
    <message>
        <source>Copy image</source>
        <translation>复制图片</translation>
    </message>
    <message>
        <source>Favourite (F)</source>
        <translation>收藏 (F)</translation>
    </message>
    <message>
        <source>Re-run exactly (R)</source>
        <translation>原样重新生成 (R)</translation>
    </message>
    <message>
        <source>Delete (Del)</source>
        <translation>删除 (Del)</translation>
    </message>
    <message numerus="yes">
        <source>Restored %n image(s).</source>
        <translation>
            <numerusform>已恢复 %n 张图片。</numerusform>
        </translation>
    </message>
    <message>
        <source>Search prompts (中文 or English)…</source>
        <translation>搜索提示词（中文或英文）…</translation>
    </message>
    <message>
        <source>Any time</source>
        <translation>任何时间</translation>
    </message>
    <message>
        <source>Today</source>
        <translation>今天</translation>
    </message>
    <message>
        <source>Last 7 days</source>
        <translation>最近 7 天</translation>
    </message>
    <message>
        <source>Last 30 days</source>
        <translation>最近 30 天</translation>
    </message>
    <message>
        <source>Any shape</source>
        <translation>任意比例</translation>
    </message>
    <message>
        <source>Square</source>
        <translation>方形</translation>
    </message>
    <message>
        <source>Landscape</source>
        <translation>横向</translation>
    </message>
    <message>
        <source>Portrait</source>
        <translation>纵向</translation>
    </message>
    <message>
        <source>Compare two</source>
        <translation>对比两张</translation>
    </message>
    <message>
        <source>Compare with the image on the canvas</source>
        <translation>与画布上的图片对比</translation>
    </message>
    <message>
        <source>Use parameters</source>
        <translation>使用参数</translation>
    </message>
    <message>
        <source>Re-run exactly</source>
        <translation>原样重新生成</translation>
    </message>
    <message>
        <source>Nothing matches “%1”. Try other words, or clear the search and the filters.</source>
        <translation>没有与“%1”匹配的图片。换个词试试，或清除搜索和筛选。</translation>
    </message>
    <message>
        <source>No image matches these filters. Set them back to show every image.</source>
        <translation>没有符合这些筛选条件的图片。恢复筛选即可显示全部图片。</translation>
    </message>
    <message>
        <source>No images yet. Type what you want to see and press Ctrl+Enter: every image you make is kept here, with its prompt and seed.</source>
        <translation>还没有图片。输入想看到的画面，按 Ctrl+Enter：生成的每张图片都会连同提示词和种子保存在这里。</translation>
    </message>
    <message>
        <source>Select two images to compare.</source>
        <translation>请选择两张图片进行对比。</translation>
    </message>
    <message>
        <source>Compare</source>
        <translation>对比</translation>
    </message>
    <message>
        <source>Import images from folder</source>
        <translation>从文件夹导入图片</translation>
    </message>
    <message>
        <source>Imported %1 images; skipped %2 without usable parameters.</source>
        <translation>已导入 %1 张图片；跳过 %2 张没有可用参数的图片。</translation>
    </message>
    <message>
        <source>View</source>
        <translation>查看</translation>
    </message>
    <message>
        <source>Export…</source>
        <translation>导出…</translation>
    </message>
    <message>
        <source>Import…</source>
        <translation>导入…</translation>
    </message>
    <message>
        <source>Vary (new seed)</source>
        <translation>变体（新种子）</translation>
    </message>
    <message>
        <source>★ Favourite</source>
        <translation>★ 收藏</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>Undo delete</source>
        <translation>撤销删除</translation>
    </message>
    <message>
        <source>Open folder</source>
        <translation>打开文件夹</translation>
    </message>
    <message numerus="yes">
        <source>Deleted %n image(s); Undo brings them back.</source>
        <translation>
            <numerusform>已删除 %n 张图片；“撤销删除”可恢复。</numerusform>
        </translation>
    </message>
    <message>
        <source>Export to folder</source>
        <translation>导出到文件夹</translation>
    </message>
    <message numerus="yes">
        <source>Exported %n image(s).</source>
        <translation>
            <numerusform>已导出 %n 张图片。</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>HistoryActions</name>
    <message>
        <source>The history was damaged and has been rebuilt from %1 images; the damaged file was kept at %2.</source>
        <translation>历史数据库已损坏，已根据 %1 张图片重建；损坏的文件保留在 %2。</translation>
    </message>
    <message>
        <source>History: %1 images are missing on disk, %2 images are not in the history (nothing was deleted; see `zimage-desktop history check`).</source>
        <translation>历史：%1 张图片的文件已不在磁盘上，%2 张图片不在历史中（未删除任何内容；详见 `zimage-desktop history check`）。</translation>
    </message>
    <message numerus="yes">
        <source>%n image(s) saved just before the app stopped were added to the history.</source>
        <translation>
            <numerusform>已将应用停止前刚保存的 %n 张图片加入历史。</numerusform>
        </translation>
    </message>
    <message>
        <source>This image carries no parameters that can be restored.</source>
        <translation>这张图片没有可恢复的参数。</translation>
    </message>
    <message>
        <source>Save image as</source>
        <translation>图片另存为</translation>
    </message>
    <message>
        <source>Reading %1…</source>
        <translation>正在读取 %1…</translation>
    </message>
</context>
<context>
    <name>ImageViewer</name>
    <message>
        <source>◀ Newer  (←)</source>
        <translation>◀ 较新  (←)</translation>
    </message>
    <message>
        <source>Older  (→) ▶</source>
        <translation>较旧  (→) ▶</translation>
    </message>
    <message>
        <source>Use parameters</source>
        <translation>使用参数</translation>
    </message>
    <message>
        <source>Re-run exactly</source>
        <translation>原样重新生成</translation>
    </message>
    <message>
        <source>Vary (new seed)</source>
        <translation>变体（新种子）</translation>
    </message>
    <message>
        <source>★ Favourite</source>
        <translation>★ 收藏</translation>
    </message>
    <message>
        <source>Copy image</source>
        <translation>复制图片</translation>
    </message>
    <message>
        <source>Save as…</source>
        <translation>另存为…</translation>
    </message>
    <message>
        <source>Open folder</source>
        <translation>打开文件夹</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>load</source>
        <translation>加载</translation>
    </message>
    <message>
        <source>encode</source>
        <translation>编码</translation>
    </message>
    <message>
        <source>denoise</source>
        <translation>去噪</translation>
    </message>
    <message>
        <source>decode</source>
        <translation>解码</translation>
    </message>
    <message>
        <source>total</source>
        <translation>合计</translation>
    </message>
    <message>
        <source>%1 %2 s</source>
        <translation>%1 %2 秒</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>尺寸</translation>
    </message>
    <message>
        <source>Seed</source>
        <translation>种子</translation>
    </message>
    <message>
        <source>Steps</source>
        <translation>步数</translation>
    </message>
    <message>
        <source>Sampler</source>
        <translation>采样器</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Lineage</source>
        <translation>来源链</translation>
    </message>
    <message>
        <source>File</source>
        <translation>文件</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>用时</translation>
    </message>
    <message>
        <source>: </source>
        <translation>：</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Parameters restored.</source>
        <translation>已恢复参数。</translation>
    </message>
    <message>
        <source>Get models…</source>
        <translation>获取模型…</translation>
    </message>
    <message>
        <source>Z-Image Desktop</source>
        <translation>Z-Image 桌面版</translation>
    </message>
    <message>
        <source>Prompt</source>
        <translation>提示词</translation>
    </message>
    <message>
        <source>Poster</source>
        <translation>海报</translation>
    </message>
    <message>
        <source>Queue</source>
        <translation>队列</translation>
    </message>
    <message>
        <source>Generate  (Ctrl+Enter)</source>
        <translation>生成  (Ctrl+Enter)</translation>
    </message>
    <message>
        <source>Cancel  (Esc)</source>
        <translation>取消  (Esc)</translation>
    </message>
    <message>
        <source>steps</source>
        <translation>步</translation>
    </message>
    <message>
        <source>waiting</source>
        <translation>等待中</translation>
    </message>
    <message>
        <source>Up</source>
        <translation>上移</translation>
    </message>
    <message>
        <source>Down</source>
        <translation>下移</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <source>Cancel all</source>
        <translation>全部取消</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Edit</source>
        <translation>编辑(&amp;E)</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <source>&amp;Tools</source>
        <translation>工具(&amp;T)</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <source>Save image as…</source>
        <translation>图片另存为…</translation>
    </message>
    <message>
        <source>Open images folder</source>
        <translation>打开图片文件夹</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>退出</translation>
    </message>
    <message>
        <source>Copy image</source>
        <translation>复制图片</translation>
    </message>
    <message>
        <source>Fit to window</source>
        <translation>适应窗口</translation>
    </message>
    <message>
        <source>Actual size (100%)</source>
        <translation>实际大小 (100%)</translation>
    </message>
    <message>
        <source>Zoom in</source>
        <translation>放大</translation>
    </message>
    <message>
        <source>Zoom out</source>
        <translation>缩小</translation>
    </message>
    <message>
        <source>History pane</source>
        <translation>历史面板</translation>
    </message>
    <message>
        <source>Theme</source>
        <translation>主题</translation>
    </message>
    <message>
        <source>Light</source>
        <translation>浅色</translation>
    </message>
    <message>
        <source>Dark</source>
        <translation>深色</translation>
    </message>
    <message>
        <source>Model manager…</source>
        <translation>模型管理…</translation>
    </message>
    <message>
        <source>Settings…</source>
        <translation>设置…</translation>
    </message>
    <message>
        <source>Follow the system</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <source>Your image appears here, step by step.</source>
        <translation>图片会在这里逐步显现。</translation>
    </message>
    <message>
        <source>Ready.</source>
        <translation>就绪。</translation>
    </message>
    <message>
        <source>Loading the model…</source>
        <translation>正在加载模型…</translation>
    </message>
    <message>
        <source>Model ready: %1</source>
        <translation>模型已就绪：%1</translation>
    </message>
    <message>
        <source>Done: seed %1, saved to %2</source>
        <translation>完成：种子 %1，已保存到 %2</translation>
    </message>
    <message>
        <source>(not saved)</source>
        <translation>（未保存）</translation>
    </message>
    <message>
        <source>Cancelled.</source>
        <translation>已取消。</translation>
    </message>
    <message>
        <source>Something went wrong</source>
        <translation>出错了</translation>
    </message>
    <message>
        <source>Use the %1 profile</source>
        <translation>改用 %1 档位</translation>
    </message>
    <message>
        <source>No model files yet: choose what to download.</source>
        <translation>还没有模型文件：请选择要下载的内容。</translation>
    </message>
</context>
<context>
    <name>ModelManagerDialog</name>
    <message>
        <source>Use “Get models…” to download them or to use the files of an existing ComfyUI folder.</source>
        <translation>请点击“获取模型…”下载，或使用现有 ComfyUI 文件夹中的文件。</translation>
    </message>
    <message>
        <source>the transformer (diffusion model)</source>
        <translation>扩散模型</translation>
    </message>
    <message>
        <source>the text encoder</source>
        <translation>文本编码器</translation>
    </message>
    <message>
        <source>the VAE</source>
        <translation>VAE</translation>
    </message>
    <message>
        <source>the configuration files</source>
        <translation>配置文件</translation>
    </message>
    <message>
        <source>Cannot generate yet: the models folder lacks %1.</source>
        <translation>暂时无法生成：模型文件夹缺少%1。</translation>
    </message>
    <message>
        <source>, </source>
        <translation>、</translation>
    </message>
    <message>
        <source>Cannot generate yet: %1</source>
        <translation>暂时无法生成：%1</translation>
    </message>
    <message>
        <source>Retry</source>
        <translation>重试</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>Selected: %1 GB to download · already in the models folder: %2 GB · free on its drive: %3 GB</source>
        <translation>已选：需下载 %1 GB · 模型文件夹中已有 %2 GB · 所在磁盘可用 %3 GB</translation>
    </message>
    <message>
        <source>Not enough free space: %1 GB more are needed on the drive of %2.</source>
        <translation>磁盘空间不足：%2 所在磁盘还需要 %1 GB。</translation>
    </message>
    <message>
        <source>Preparing the download…</source>
        <translation>正在准备下载…</translation>
    </message>
    <message>
        <source>Checking the connection to the download sources…</source>
        <translation>正在检查与下载源的连接…</translation>
    </message>
    <message>
        <source>%1 of %2 GB · %3 MB/s · %4 left · %5</source>
        <translation>%1 / %2 GB · %3 MB/s · 剩余 %4 · %5</translation>
    </message>
    <message>
        <source>Downloading models: %1% · %2 left</source>
        <translation>正在下载模型：%1% · 剩余 %2</translation>
    </message>
    <message>
        <source>Model manager</source>
        <translation>模型管理</translation>
    </message>
    <message>
        <source>Get</source>
        <translation>下载</translation>
    </message>
    <message>
        <source>Component</source>
        <translation>组件</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>尺寸</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Hugging Face</source>
        <translation>Hugging Face</translation>
    </message>
    <message>
        <source>Hugging Face mirror (%1)</source>
        <translation>Hugging Face 镜像（%1）</translation>
    </message>
    <message>
        <source>ModelScope (China)</source>
        <translation>魔搭 ModelScope（国内）</translation>
    </message>
    <message>
        <source>Source:</source>
        <translation>来源：</translation>
    </message>
    <message>
        <source>Download selected</source>
        <translation>下载所选</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Use files from an existing ComfyUI folder…</source>
        <translation>使用已有 ComfyUI 文件夹中的模型…</translation>
    </message>
    <message>
        <source>Detecting this computer&apos;s graphics card and memory…</source>
        <translation>正在检测本机显卡和内存…</translation>
    </message>
    <message>
        <source>Recommended for this computer (%1): %2</source>
        <translation>本机推荐（%1）：%2</translation>
    </message>
    <message>
        <source>installed</source>
        <translation>已安装</translation>
    </message>
    <message>
        <source>verified</source>
        <translation>已校验</translation>
    </message>
    <message>
        <source>not installed</source>
        <translation>未安装</translation>
    </message>
    <message>
        <source>partly downloaded</source>
        <translation>部分已下载</translation>
    </message>
    <message>
        <source>incomplete</source>
        <translation>不完整</translation>
    </message>
    <message>
        <source>wrong size</source>
        <translation>大小不对</translation>
    </message>
    <message>
        <source>damaged</source>
        <translation>已损坏</translation>
    </message>
    <message>
        <source>Nothing selected.</source>
        <translation>未选择任何内容。</translation>
    </message>
    <message>
        <source>Downloading…</source>
        <translation>正在下载…</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>继续</translation>
    </message>
    <message>
        <source>No download source can be reached (tried: %1). Check the internet connection (or the proxy or mirror address), then press Retry. From mainland China, ModelScope or a Hugging Face mirror usually answers: choose it under Source.</source>
        <translation>无法连接任何下载源（已尝试：%1）。请检查网络连接（或代理、镜像地址），然后点击“重试”。在中国大陆，ModelScope 或 Hugging Face 镜像通常可以访问：请在“来源”中选择。</translation>
    </message>
    <message>
        <source>Download complete.</source>
        <translation>下载完成。</translation>
    </message>
    <message>
        <source>Choose the ComfyUI models folder</source>
        <translation>选择 ComfyUI 的 models 文件夹</translation>
    </message>
    <message>
        <source>Imported %1 files without copying.</source>
        <translation>已导入 %1 个文件（未复制）。</translation>
    </message>
</context>
<context>
    <name>ParametersForm</name>
    <message>
        <source>Describe the image. For text in the picture, put the exact words in quotes and say font, colour and position, e.g. 标题文字“新春特惠”，金色粗体，居中</source>
        <translation>描述你想要的画面。需要在图中出现的文字请放在引号里，并说明字体、颜色和位置，例如：标题文字“新春特惠”，金色粗体，居中</translation>
    </message>
    <message>
        <source>Custom size…</source>
        <translation>自定义尺寸…</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>尺寸</translation>
    </message>
    <message>
        <source>Width × height</source>
        <translation>宽 × 高</translation>
    </message>
    <message>
        <source>Steps</source>
        <translation>步数</translation>
    </message>
    <message>
        <source>Sampler</source>
        <translation>采样器</translation>
    </message>
    <message>
        <source>Seed</source>
        <translation>种子</translation>
    </message>
    <message>
        <source>Images</source>
        <translation>张数</translation>
    </message>
    <message>
        <source>Random</source>
        <translation>随机</translation>
    </message>
    <message>
        <source>Reuse last</source>
        <translation>沿用上次</translation>
    </message>
    <message>
        <source>Enhance  (Ctrl+E)</source>
        <translation>扩写  (Ctrl+E)</translation>
    </message>
    <message>
        <source>Rewrite the idea into a detailed prompt with the text encoder already on disk (offline)</source>
        <translation>用已下载的文本编码器把想法扩写成详细的提示词（离线）</translation>
    </message>
    <message>
        <source>Models…</source>
        <translation>模型…</translation>
    </message>
    <message>
        <source>%1 / %2 tokens</source>
        <translation>%1 / %2 词元</translation>
    </message>
    <message numerus="yes">
        <source>%n characters</source>
        <translation>
            <numerusform>%n 个字符</numerusform>
        </translation>
    </message>
    <message>
        <source>≈%1 / %2 tokens</source>
        <translation>≈%1 / %2 词元</translation>
    </message>
    <message>
        <source>Adjusted %1×%2 to %3×%4: sides must be multiples of 16 between 256 and 2048.</source>
        <translation>已将 %1×%2 调整为 %3×%4：边长须为 16 的倍数，范围 256 到 2048。</translation>
    </message>
</context>
<context>
    <name>PlanText</name>
    <message>
        <source>bf16 transformer</source>
        <translation>bf16 主模型</translation>
    </message>
    <message>
        <source>FP8-stored transformer</source>
        <translation>FP8 存储的主模型</translation>
    </message>
    <message>
        <source>GGUF %1 transformer</source>
        <translation>GGUF %1 主模型</translation>
    </message>
    <message>
        <source>on the GPU</source>
        <translation>在显卡上</translation>
    </message>
    <message>
        <source>on the Apple GPU</source>
        <translation>在 Apple 显卡上</translation>
    </message>
    <message>
        <source>on the CPU</source>
        <translation>在 CPU 上</translation>
    </message>
    <message>
        <source>swapped in and out of the GPU per stage</source>
        <translation>按阶段换入换出显存</translation>
    </message>
    <message>
        <source>streamed to the GPU layer by layer</source>
        <translation>逐层流式载入显存</translation>
    </message>
    <message>
        <source>streamed to the GPU module by module</source>
        <translation>逐模块流式载入显存</translation>
    </message>
    <message>
        <source>text encoder on the GPU</source>
        <translation>文本编码器在显卡上</translation>
    </message>
    <message>
        <source>text encoder moved to the GPU only to encode</source>
        <translation>文本编码器仅在编码时载入显卡</translation>
    </message>
    <message>
        <source>text encoder on the CPU</source>
        <translation>文本编码器在 CPU 上</translation>
    </message>
    <message>
        <source>GGUF %1 text encoder, kept quantized</source>
        <translation>GGUF %1 文本编码器，保持量化</translation>
    </message>
    <message>
        <source>tiled VAE</source>
        <translation>分块 VAE 解码</translation>
    </message>
    <message>
        <source>float16 compute (float32 if it overflows)</source>
        <translation>float16 计算（溢出时改用 float32）</translation>
    </message>
    <message>
        <source>float32 compute</source>
        <translation>float32 计算</translation>
    </message>
    <message>
        <source>≈ %1 GiB RAM</source>
        <translation>约 %1 GiB 内存</translation>
    </message>
    <message>
        <source>peak ≈ %1 GiB VRAM, %2 GiB RAM</source>
        <translation>峰值约 %1 GiB 显存、%2 GiB 内存</translation>
    </message>
    <message>
        <source>may not fit</source>
        <translation>可能放不下</translation>
    </message>
    <message>
        <source>, </source>
        <translation>，</translation>
    </message>
</context>
<context>
    <name>PosterPanel</name>
    <message>
        <source>%1 / %2 tokens</source>
        <translation>%1 / %2 词元</translation>
    </message>
    <message>
        <source>≈%1 / %2 tokens (estimated until the models are installed)</source>
        <translation>≈%1 / %2 词元（安装模型前为估算值）</translation>
    </message>
    <message>
        <source>The prompt is %1 tokens long; Z-Image reads at most %2. Shorten it to generate.</source>
        <translation>提示词有 %1 个词元，Z-Image 最多只读取 %2 个。请缩短后再生成。</translation>
    </message>
    <message>
        <source>The prompt is about %1 tokens long; Z-Image reads at most %2. Shorten it.</source>
        <translation>提示词约有 %1 个词元，Z-Image 最多只读取 %2 个。请缩短。</translation>
    </message>
    <message>
        <source>Long prompt</source>
        <translation>提示词过长</translation>
    </message>
    <message>
        <source>The count is an estimate. Generate anyway?</source>
        <translation>这个数目是估算值。仍要生成吗？</translation>
    </message>
    <message>
        <source>Enhance the scene</source>
        <translation>扩写场景</translation>
    </message>
    <message>
        <source>Template</source>
        <translation>模板</translation>
    </message>
    <message>
        <source>Format</source>
        <translation>尺寸格式</translation>
    </message>
    <message>
        <source>Describe in</source>
        <translation>描述语言</translation>
    </message>
    <message>
        <source>Headline</source>
        <translation>主标题</translation>
    </message>
    <message>
        <source>Subtitle</source>
        <translation>副标题</translation>
    </message>
    <message>
        <source>Body lines</source>
        <translation>正文（每行一条）</translation>
    </message>
    <message>
        <source>Call to action</source>
        <translation>行动号召</translation>
    </message>
    <message>
        <source>Small print</source>
        <translation>底部说明</translation>
    </message>
    <message>
        <source>Scene</source>
        <translation>画面内容</translation>
    </message>
    <message>
        <source>Style</source>
        <translation>风格</translation>
    </message>
    <message>
        <source>Layout</source>
        <translation>版式</translation>
    </message>
    <message>
        <source>Font feel</source>
        <translation>字体感觉</translation>
    </message>
    <message>
        <source>Colours</source>
        <translation>配色</translation>
    </message>
    <message>
        <source>Prompt</source>
        <translation>提示词</translation>
    </message>
    <message>
        <source>Save as template…</source>
        <translation>另存为模板…</translation>
    </message>
    <message>
        <source>Compose again</source>
        <translation>重新生成提示词</translation>
    </message>
    <message>
        <source>Variants</source>
        <translation>多个变体</translation>
    </message>
    <message>
        <source>Generate this many variants, each with its own seed</source>
        <translation>生成这么多个变体，每个使用各自的种子</translation>
    </message>
    <message>
        <source>Generate  (Ctrl+Enter)</source>
        <translation>生成  (Ctrl+Enter)</translation>
    </message>
    <message>
        <source>Choose a template…</source>
        <translation>选择模板…</translation>
    </message>
    <message>
        <source>Save as template</source>
        <translation>另存为模板</translation>
    </message>
    <message>
        <source>Name:</source>
        <translation>名称：</translation>
    </message>
</context>
<context>
    <name>Progress</name>
    <message>
        <source>step %1/%2</source>
        <translation>第 %1/%2 步</translation>
    </message>
    <message>
        <source>starting</source>
        <translation>准备开始</translation>
    </message>
    <message>
        <source>loading the model</source>
        <translation>正在加载模型</translation>
    </message>
    <message>
        <source>reading the prompt</source>
        <translation>正在读取提示词</translation>
    </message>
    <message>
        <source>decoding the image</source>
        <translation>正在解码图像</translation>
    </message>
    <message>
        <source>saving</source>
        <translation>正在保存</translation>
    </message>
    <message>
        <source>about %1 s left</source>
        <translation>约剩 %1 秒</translation>
    </message>
    <message>
        <source>about %1 min left</source>
        <translation>约剩 %1 分钟</translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation>正在取消…</translation>
    </message>
    <message>
        <source>Image %1/%2</source>
        <translation>第 %1/%2 张</translation>
    </message>
</context>
<context>
    <name>RecommendedSet</name>
    <message>
        <source>Detecting this computer…</source>
        <translation>正在检测这台电脑…</translation>
    </message>
    <message>
        <source>Download the recommended set (%1 GB)</source>
        <translation>下载推荐的模型组合（%1 GB）</translation>
    </message>
    <message>
        <source>The recommended set is installed</source>
        <translation>推荐的模型组合已安装</translation>
    </message>
    <message>
        <source>Choose files…</source>
        <translation>选择文件…</translation>
    </message>
    <message>
        <source>Into the models folder: %1 (change it in Settings)</source>
        <translation>保存到模型文件夹：%1（可在“设置”中更改）</translation>
    </message>
</context>
<context>
    <name>SamplingControls</name>
    <message>
        <source>Euler</source>
        <translation>Euler</translation>
    </message>
    <message>
        <source>Res multistep</source>
        <translation>Res multistep</translation>
    </message>
    <message>
        <source>Simple schedule (ComfyUI)</source>
        <translation>简单调度（与 ComfyUI 相同）</translation>
    </message>
    <message>
        <source>Diffusers schedule</source>
        <translation>管线自带调度（Diffusers）</translation>
    </message>
    <message>
        <source>Euler is ComfyUI&apos;s Z-Image example; res multistep is its current template.</source>
        <translation>Euler 是 ComfyUI 的 Z-Image 示例所用的采样器；res multistep 是其当前模板所用的。</translation>
    </message>
    <message>
        <source>With the same seed, the simple schedule makes ComfyUI&apos;s picture; the diffusers schedule is the pipeline&apos;s own, used by this app&apos;s older images.</source>
        <translation>使用相同种子时，Simple 调度生成与 ComfyUI 相同的图片；Diffusers 调度是管线自带的调度，本应用较早的图片使用它。</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <source>Off: the token goes to huggingface.co only. Turn on only for a mirror you trust with your account.</source>
        <translation>关闭时令牌只发送给 huggingface.co。仅当你信任此镜像可以使用你的账号时才打开。</translation>
    </message>
    <message>
        <source>Also send the Hugging Face token to this mirror (HTTPS only)</source>
        <translation>也把 Hugging Face 令牌发送给此镜像（仅限 HTTPS）</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <source>Follow the system</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <source>Start the app with --data-dir or ZIMAGE_DESKTOP_DATA to move it.</source>
        <translation>用 --data-dir 或 ZIMAGE_DESKTOP_DATA 启动即可更换位置。</translation>
    </message>
    <message>
        <source>Automatic</source>
        <translation>自动</translation>
    </message>
    <message>
        <source>Show a preview after every step</source>
        <translation>每一步都显示预览</translation>
    </message>
    <message>
        <source>Hugging Face</source>
        <translation>Hugging Face</translation>
    </message>
    <message>
        <source>Light</source>
        <translation>浅色</translation>
    </message>
    <message>
        <source>Dark</source>
        <translation>深色</translation>
    </message>
    <message>
        <source>Hugging Face mirror</source>
        <translation>Hugging Face 镜像</translation>
    </message>
    <message>
        <source>ModelScope (China)</source>
        <translation>魔搭 ModelScope（国内）</translation>
    </message>
    <message>
        <source>optional; stored readable only by you</source>
        <translation>可选；仅你本人可读</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <source>Models folder</source>
        <translation>模型文件夹</translation>
    </message>
    <message>
        <source>Theme</source>
        <translation>主题</translation>
    </message>
    <message>
        <source>Data folder</source>
        <translation>数据文件夹</translation>
    </message>
    <message>
        <source>Device</source>
        <translation>设备</translation>
    </message>
    <message>
        <source>Memory profile</source>
        <translation>显存档位</translation>
    </message>
    <message>
        <source>Download source</source>
        <translation>下载来源</translation>
    </message>
    <message>
        <source>Mirror address</source>
        <translation>镜像地址</translation>
    </message>
    <message>
        <source>Hugging Face token</source>
        <translation>Hugging Face 令牌</translation>
    </message>
    <message>
        <source>Detecting this computer&apos;s graphics card and memory…</source>
        <translation>正在检测本机显卡和内存…</translation>
    </message>
</context>
</TS>
