<?xml version='1.0' encoding='utf-8'?>
<TS version="2.1" language="zh_CN">
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="184" />
        <source>Z-Image Desktop</source>
        <translation>Z-Image 桌面版</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="186" />
        <source>Describe the image. For text in the picture, put the exact words in quotes and say font, colour and position, e.g. 标题文字“新春特惠”，金色粗体，居中</source>
        <translation>描述你想要的画面。需要在图中出现的文字请放在引号里，并说明字体、颜色和位置，例如：标题文字“新春特惠”，金色粗体，居中</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="188" />
        <source>Custom size…</source>
        <translation>自定义尺寸…</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="189" />
        <source>Size</source>
        <translation>尺寸</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="189" />
        <source>Width × height</source>
        <translation>宽 × 高</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="189" />
        <source>Steps</source>
        <translation>步数</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="190" />
        <source>Seed</source>
        <translation>种子</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="190" />
        <source>Images</source>
        <translation>张数</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="190" />
        <source>Queue</source>
        <translation>队列</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="192" />
        <source>Random</source>
        <translation>随机</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="193" />
        <source>Reuse last</source>
        <translation>沿用上次</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="194" />
        <source>Generate  (Ctrl+Enter)</source>
        <translation>生成  (Ctrl+Enter)</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="195" />
        <source>Cancel  (Esc)</source>
        <translation>取消  (Esc)</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="196" />
        <source>Models…</source>
        <translation>模型…</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="197" />
        <source>Up</source>
        <translation>上移</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="198" />
        <source>Down</source>
        <translation>下移</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="199" />
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="200" />
        <source>Cancel all</source>
        <translation>全部取消</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="201" />
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="202" />
        <source>&amp;Edit</source>
        <translation>编辑(&amp;E)</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="203" />
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="204" />
        <source>&amp;Tools</source>
        <translation>工具(&amp;T)</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="205" />
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="206" />
        <source>Save image as…</source>
        <translation>图片另存为…</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="207" />
        <source>Open images folder</source>
        <translation>打开图片文件夹</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="208" />
        <source>Quit</source>
        <translation>退出</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="209" />
        <source>Copy image</source>
        <translation>复制图片</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="210" />
        <source>Actual size (100%)</source>
        <translation>实际大小 (100%)</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="211" />
        <source>Model manager…</source>
        <translation>模型管理…</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="212" />
        <source>Settings…</source>
        <translation>设置…</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="213" />
        <source>Follow the system</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="218" />
        <source>Your image appears here, step by step.</source>
        <translation>图片会在这里逐步显现。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="221" />
        <source>Ready.</source>
        <translation>就绪。</translation>
    </message>
    <message numerus="yes">
        <location filename="../../zimage_desktop/ui/main_window.py" line="233" />
        <source>%n characters</source>
        <translation>
            <numerusform>%n 个字符</numerusform></translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="234" />
        <source>≈%1 / %2 tokens</source>
        <translation>≈%1 / %2 词元</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="253" />
        <source>Adjusted %1×%2 to %3×%4: sides must be multiples of 16 between 256 and 2048.</source>
        <translation>已将 %1×%2 调整为 %3×%4：边长须为 16 的倍数，范围 256 到 2048。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="314" />
        <source>Loading the model…</source>
        <translation>正在加载模型…</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="318" />
        <source>Model ready: %1</source>
        <translation>模型已就绪：%1</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="323" />
        <source>Generating…</source>
        <translation>正在生成…</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="330" />
        <source>Image %1/%2 · step %3/%4 · about %5 s left</source>
        <translation>第 %1/%2 张 · 第 %3/%4 步 · 约剩 %5 秒</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="337" />
        <source>Done: seed %1, saved to %2</source>
        <translation>完成：种子 %1，已保存到 %2</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="338" />
        <source>(not saved)</source>
        <translation>（未保存）</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="342" />
        <source>Cancelled.</source>
        <translation>已取消。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="352" />
        <source>Something went wrong</source>
        <translation>出错了</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="356" />
        <source>Use the %1 profile</source>
        <translation>改用 %1 档位</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="377" />
        <source>Save image as</source>
        <translation>图片另存为</translation>
    </message>
</context>
<context>
    <name>ModelManagerDialog</name>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="84" />
        <source>Model manager</source>
        <translation>模型管理</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="85" />
        <source>Get</source>
        <translation>下载</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="85" />
        <source>Component</source>
        <translation>组件</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="85" />
        <source>Size</source>
        <translation>尺寸</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="85" />
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="86" />
        <source>Hugging Face</source>
        <translation>Hugging Face</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="86" />
        <source>Hugging Face mirror (%1)</source>
        <translation>Hugging Face 镜像（%1）</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="87" />
        <source>ModelScope (China)</source>
        <translation>魔搭 ModelScope（国内）</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="89" />
        <source>Source:</source>
        <translation>来源：</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="90" />
        <source>Download selected</source>
        <translation>下载所选</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="91" />
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="172" />
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="195" />
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="92" />
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="93" />
        <source>Use files from an existing ComfyUI folder…</source>
        <translation>使用已有 ComfyUI 文件夹中的模型…</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="120" />
        <source>Recommended for this computer (%1): %2</source>
        <translation>本机推荐（%1）：%2</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="134" />
        <source>installed</source>
        <translation>已安装</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="134" />
        <source>verified</source>
        <translation>已校验</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="135" />
        <source>not installed</source>
        <translation>未安装</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="135" />
        <source>partly downloaded</source>
        <translation>部分已下载</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="152" />
        <source>Nothing selected.</source>
        <translation>未选择任何内容。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="163" />
        <source>Downloading…</source>
        <translation>正在下载…</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="175" />
        <source>Resume</source>
        <translation>继续</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="186" />
        <source>%1: %2 of %3 GB · %4 MB/s · %5 left</source>
        <translation>%1：%2 / %3 GB · %4 MB/s · 剩余 %5</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="200" />
        <source>Download complete.</source>
        <translation>下载完成。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="207" />
        <source>Choose the ComfyUI models folder</source>
        <translation>选择 ComfyUI 的 models 文件夹</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="215" />
        <source>Imported %1 files without copying.</source>
        <translation>已导入 %1 个文件（未复制）。</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="21" />
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="24" />
        <source>Follow the system</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="28" />
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="34" />
        <source>Start the app with --data-dir or ZIMAGE_DESKTOP_DATA to move it.</source>
        <translation>用 --data-dir 或 ZIMAGE_DESKTOP_DATA 启动即可更换位置。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="36" />
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="41" />
        <source>Automatic</source>
        <translation>自动</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="46" />
        <source>Show a preview after every step</source>
        <translation>每一步都显示预览</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="49" />
        <source>Hugging Face</source>
        <translation>Hugging Face</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="49" />
        <source>Hugging Face mirror</source>
        <translation>Hugging Face 镜像</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="50" />
        <source>ModelScope (China)</source>
        <translation>魔搭 ModelScope（国内）</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="56" />
        <source>optional; stored readable only by you</source>
        <translation>可选；仅你本人可读</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="57" />
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="58" />
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="74" />
        <source>Models folder</source>
        <translation>模型文件夹</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="59" />
        <source>Data folder</source>
        <translation>数据文件夹</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="60" />
        <source>Device</source>
        <translation>设备</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="61" />
        <source>Memory profile</source>
        <translation>显存档位</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="64" />
        <source>Download source</source>
        <translation>下载来源</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="65" />
        <source>Mirror address</source>
        <translation>镜像地址</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="66" />
        <source>Hugging Face token</source>
        <translation>Hugging Face 令牌</translation>
    </message>
</context>
<context>
    <name>window</name>
    <message>
        <location filename="../../zimage_desktop/app.py" line="76" />
        <source>No model files yet: choose what to download.</source>
        <translation>还没有模型文件：请选择要下载的内容。</translation>
    </message>
</context>
</TS>