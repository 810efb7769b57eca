<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>CanvasPanel</name>
    <message>
        <location filename="../../zimage_desktop/ui/canvas.py" line="99" />
        <source>Fit</source>
        <translation>适应</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/canvas.py" line="100" />
        <source>Fit the image to the view (Ctrl+0)</source>
        <translation>缩放图像以适应视图（Ctrl+0）</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/canvas.py" line="102" />
        <source>Actual size (Ctrl+1); Ctrl+wheel zooms, dragging pans</source>
        <translation>实际大小（Ctrl+1）；Ctrl+滚轮缩放，拖动平移</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/canvas.py" line="103" />
        <source>Edit</source>
        <translation>编辑</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/canvas.py" line="104" />
        <source>Edit this image: change part of it, extend it, upscale it</source>
        <translation>编辑这张图：改动局部、向外扩展、放大</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/canvas.py" line="105" />
        <source>Compare:</source>
        <translation>对比：</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/canvas.py" line="106" />
        <source>Off</source>
        <translation>关闭</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/canvas.py" line="106" />
        <source>Side by side</source>
        <translation>并排</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/canvas.py" line="106" />
        <source>Split</source>
        <translation>分割线</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/canvas.py" line="108" />
        <source>with the previous result</source>
        <translation>与上一张结果</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/canvas.py" line="108" />
        <source>with the selected history image</source>
        <translation>与历史中选中的图片</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/canvas.py" line="110" />
        <source>Where the line between the two images is (or drag the line)</source>
        <translation>两张图片之间分割线的位置（也可直接拖动分割线）</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/canvas.py" line="153" />
        <source>Nothing to compare with yet: finish a second image, or select one in the history.</source>
        <translation>还没有可对比的图片：再生成一张，或在历史中选择一张。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/canvas.py" line="155" />
        <source>Select an image in the history to compare with.</source>
        <translation>请在历史中选择一张用于对比的图片。</translation>
    </message>
</context>
<context>
    <name>ControlPanel</name>
    <message>
        <location filename="../../zimage_desktop/ui/control_panel.py" line="120" />
        <source>Draw a scribble on the canvas</source>
        <translation>在画布上画涂鸦</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/control_panel.py" line="121" />
        <source>White strokes on black: the brush draws, X erases, [ and ] change the pen, Ctrl+Z undoes a stroke</source>
        <translation>黑底白线：画笔绘制，X 擦除，[ 和 ] 调整笔粗细，Ctrl+Z 撤销一笔</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/control_panel.py" line="123" />
        <source>Undo</source>
        <translation>撤销</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/control_panel.py" line="124" />
        <source>Redo</source>
        <translation>重做</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/control_panel.py" line="110" />
        <source>Control (ControlNet Union)</source>
        <translation>控制（ControlNet）</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/control_panel.py" line="111" />
        <source>Edges (canny)</source>
        <translation>边缘（Canny）</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/control_panel.py" line="111" />
        <source>Greyscale</source>
        <translation>灰度</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/control_panel.py" line="111" />
        <source>Scribble</source>
        <translation>涂鸦</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/control_panel.py" line="112" />
        <source>Depth</source>
        <translation>深度</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/control_panel.py" line="115" />
        <source>Kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/control_panel.py" line="115" />
        <source>Image</source>
        <translation>图片</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/control_panel.py" line="115" />
        <source>Strength</source>
        <translation>强度</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/control_panel.py" line="116" />
        <source>Steps (from – to)</source>
        <translation>作用步数（从 – 到）</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/control_panel.py" line="118" />
        <source>File…</source>
        <translation>文件…</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/control_panel.py" line="119" />
        <source>From canvas</source>
        <translation>取自画布</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/control_panel.py" line="125" />
        <source>Fraction of the steps where the control starts</source>
        <translation>控制开始时所处的步数比例</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/control_panel.py" line="126" />
        <source>Fraction of the steps where the control ends</source>
        <translation>控制结束时所处的步数比例</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/control_panel.py" line="154" />
        <source>Control image</source>
        <translation>控制图</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/control_panel.py" line="155" />
        <source>Images (*.png *.jpg *.jpeg *.webp *.bmp)</source>
        <translation>图片 (*.png *.jpg *.jpeg *.webp *.bmp)</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/control_panel.py" line="164" />
        <source>The canvas has no picture yet.</source>
        <translation>画布上还没有图片。</translation>
    </message>
</context>
<context>
    <name>EditFlow</name>
    <message>
        <location filename="../../zimage_desktop/ui/edit_flow.py" line="127" />
        <source>Editing %1 (%2×%3)</source>
        <translation>正在编辑 %1（%2×%3）</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_flow.py" line="127" />
        <source>an image</source>
        <translation>一张图片</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_flow.py" line="134" />
        <source>The image file of #%1 cannot be read.</source>
        <translation>#%1 的图片文件无法读取。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_flow.py" line="142" />
        <source>Nothing to edit yet: generate an image, or drop one on the canvas.</source>
        <translation>还没有可编辑的图片：先生成一张，或把图片拖到画布上。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_flow.py" line="152" />
        <source>Open an image to edit</source>
        <translation>打开要编辑的图片</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_flow.py" line="153" />
        <source>Images</source>
        <translation>图片</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_flow.py" line="159" />
        <source>Reading %1…</source>
        <translation>正在读取 %1…</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_flow.py" line="169" />
        <source>Editing %1.</source>
        <translation>正在编辑 %1。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_flow.py" line="197" />
        <source>This picture was made with %1 (strength %2): open its source image to edit it the same way.</source>
        <translation>这张图是用 %1 生成的（强度 %2）：打开它的原图，即可按同样方式再编辑。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_flow.py" line="262" />
        <source>Result: %1×%2</source>
        <translation>结果：%1×%2</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_flow.py" line="264" />
        <source>(larger than %1 px: choose a smaller size)</source>
        <translation>（超过 %1 px：请选小一些的尺寸）</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_flow.py" line="272" />
        <source>Open an image to edit first: Edit on the canvas or a gallery image, or drop a file on the canvas.</source>
        <translation>请先打开要编辑的图片：点画布或历史图片上的“编辑”，或把文件拖到画布上。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_flow.py" line="284" />
        <source>The mask is empty: paint the area that may change.</source>
        <translation>蒙版是空的：请涂出允许改动的区域。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_flow.py" line="338" />
        <source>Headline</source>
        <translation>主标题</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_flow.py" line="338" />
        <source>Subtitle</source>
        <translation>副标题</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_flow.py" line="338" />
        <source>Body text</source>
        <translation>正文</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_flow.py" line="339" />
        <source>Button text</source>
        <translation>按钮文字</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_flow.py" line="339" />
        <source>Small print</source>
        <translation>底部说明</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_flow.py" line="351" />
        <source>&quot;Fix the text&quot; works on posters made in the Poster tab.</source>
        <translation>“修正文字”只适用于在“海报”页生成的海报。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_flow.py" line="353" />
        <source>Drag a rectangle over the text on the canvas first, then press Fix the text.</source>
        <translation>请先在画布上拖出一个矩形框住文字，再点“修正文字”。</translation>
    </message>
</context>
<context>
    <name>EditPanel</name>
    <message>
        <location filename="../../zimage_desktop/ui/edit_panel.py" line="239" />
        <source>Open an image…</source>
        <translation>打开图片…</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_panel.py" line="240" />
        <source>Show the source</source>
        <translation>显示原图</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_panel.py" line="241" />
        <source>Show the image being edited again (after a result replaced it)</source>
        <translation>重新显示正在编辑的图片（结果图替换它之后）</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_panel.py" line="242" />
        <source>What the changed area should show:</source>
        <translation>改动区域应当画出什么：</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_panel.py" line="243" />
        <source>Describe the picture; for inpainting, what goes into the mask.</source>
        <translation>描述画面；局部重绘时，描述蒙版里要画的内容。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_panel.py" line="244" />
        <source>Mode:</source>
        <translation>模式：</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_panel.py" line="245" />
        <source>Image to image</source>
        <translation>图生图</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_panel.py" line="245" />
        <source>Inpaint (change the masked area)</source>
        <translation>局部重绘（改动蒙版区域）</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_panel.py" line="246" />
        <source>Outpaint (extend the picture)</source>
        <translation>扩图（向外扩展画面）</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_panel.py" line="246" />
        <location filename="../../zimage_desktop/ui/edit_panel.py" line="275" />
        <source>Upscale</source>
        <translation>放大</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_panel.py" line="248" />
        <source>Strength:</source>
        <translation>重绘强度：</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_panel.py" line="249" />
        <source>How much may change: low keeps the source, 1 redraws it entirely</source>
        <translation>允许改动多少：低则保留原图，1 则完全重画</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_panel.py" line="250" />
        <source>Mask: paint where the picture may change</source>
        <translation>蒙版：涂出允许改动的地方</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_panel.py" line="251" />
        <source>Brush</source>
        <translation>画笔</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_panel.py" line="251" />
        <source>Paint the mask (B)</source>
        <translation>涂画蒙版（B）</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_panel.py" line="252" />
        <source>Eraser</source>
        <translation>橡皮</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_panel.py" line="252" />
        <source>Erase the mask (X)</source>
        <translation>擦除蒙版（X）</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_panel.py" line="253" />
        <source>Rectangle</source>
        <translation>矩形</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_panel.py" line="254" />
        <source>Drag a rectangle onto the mask (R); with Alt held it erases</source>
        <translation>在蒙版上拖出矩形（R）；按住 Alt 则擦除</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_panel.py" line="257" />
        <source>Brush size:</source>
        <translation>笔刷大小：</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_panel.py" line="258" />
        <source>[ smaller, ] bigger</source>
        <translation>[ 变小，] 变大</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_panel.py" line="259" />
        <source>Undo</source>
        <translation>撤销</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_panel.py" line="260" />
        <source>Undo the last stroke (Ctrl+Z)</source>
        <translation>撤销上一笔（Ctrl+Z）</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_panel.py" line="261" />
        <source>Redo</source>
        <translation>重做</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_panel.py" line="262" />
        <source>Redo (Ctrl+Shift+Z)</source>
        <translation>重做（Ctrl+Shift+Z）</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_panel.py" line="263" />
        <source>Invert</source>
        <translation>反选</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_panel.py" line="264" />
        <source>Clear</source>
        <translation>清空</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_panel.py" line="265" />
        <source>Show the mask</source>
        <translation>显示蒙版</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_panel.py" line="266" />
        <source>Feather:</source>
        <translation>羽化：</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_panel.py" line="267" />
        <source>How softly the new pixels blend into the old ones at the mask&apos;s edge</source>
        <translation>蒙版边缘新旧像素过渡的柔和程度</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_panel.py" line="268" />
        <source>Only the masked area (redraw it at full detail)</source>
        <translation>仅重绘蒙版区域（以完整细节重画）</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_panel.py" line="269" />
        <source>Crop around the mask, work at the model&apos;s resolution, paste back</source>
        <translation>裁出蒙版周围区域，按模型分辨率重绘后贴回</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_panel.py" line="270" />
        <source>Padding:</source>
        <translation>外扩边距：</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_panel.py" line="271" />
        <source>Outpaint</source>
        <translation>扩图</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_panel.py" line="272" />
        <source>Drag the canvas edges, or pick the format to extend to:</source>
        <translation>拖动画布边缘，或选择要扩展到的比例：</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_panel.py" line="273" />
        <source>Left</source>
        <translation>左</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_panel.py" line="273" />
        <source>Top</source>
        <translation>上</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_panel.py" line="273" />
        <source>Right</source>
        <translation>右</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_panel.py" line="273" />
        <source>Bottom</source>
        <translation>下</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_panel.py" line="276" />
        <source>Width:</source>
        <translation>宽度：</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_panel.py" line="281" />
        <location filename="../../zimage_desktop/ui/edit_panel.py" line="284" />
        <source>Fix the text</source>
        <translation>修正文字</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_panel.py" line="282" />
        <source>Drag a rectangle over the wrong text, then press the button: it is redrawn with the poster&apos;s own words.</source>
        <translation>拖出矩形框住写错的文字，再点按钮：按海报原本的文字重新绘制。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_panel.py" line="285" />
        <source>Edit  (Ctrl+Enter)</source>
        <translation>编辑  (Ctrl+Enter)</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_panel.py" line="277" />
        <source>&amp;Model:</source>
        <translation>模型(&amp;M)：</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_panel.py" line="278" />
        <source>Lanczos (no model)</source>
        <translation>Lanczos（不用模型）</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/edit_panel.py" line="279" />
        <source>An ESRGAN-family upscaler from the models folder&apos;s upscale_models/ enlarges the pixels before the refining pass</source>
        <translation>先用模型文件夹 upscale_models/ 中的 ESRGAN 系列放大模型放大像素，再做细化</translation>
    </message>
</context>
<context>
    <name>EnginesPage</name>
    <message>
        <location filename="../../zimage_desktop/ui/engines_page.py" line="103" />
        <source>This computer</source>
        <translation>本机</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/engines_page.py" line="107" />
        <source> (off)</source>
        <translation>（已关闭）</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/engines_page.py" line="143" />
        <source>stored — type to replace</source>
        <translation>已保存 — 输入新值以替换</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/engines_page.py" line="144" />
        <source>optional</source>
        <translation>可选</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/engines_page.py" line="153" />
        <source>ComfyUI server</source>
        <translation>ComfyUI 服务器</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/engines_page.py" line="226" />
        <source>Asking %1…</source>
        <translation>正在询问 %1…</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/engines_page.py" line="237" />
        <source>ComfyUI %1 · %2 · %3 GiB (%4 free) · queue %5 · ComfyUI-GGUF: %6</source>
        <translation>ComfyUI %1 · %2 · %3 GiB（空闲 %4）· 队列 %5 · ComfyUI-GGUF：%6</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/engines_page.py" line="240" />
        <source>yes</source>
        <translation>有</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/engines_page.py" line="240" />
        <source>no</source>
        <translation>无</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/engines_page.py" line="241" />
        <source>Model files: %1</source>
        <translation>模型文件：%1</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/engines_page.py" line="270" />
        <source>Add server</source>
        <translation>添加服务器</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/engines_page.py" line="271" />
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/engines_page.py" line="272" />
        <source>Up</source>
        <translation>上移</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/engines_page.py" line="273" />
        <source>Down</source>
        <translation>下移</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/engines_page.py" line="274" />
        <source>Test</source>
        <translation>测试</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/engines_page.py" line="275" />
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/engines_page.py" line="275" />
        <source>Address</source>
        <translation>地址</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/engines_page.py" line="276" />
        <source>Token header</source>
        <translation>令牌请求头</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/engines_page.py" line="276" />
        <source>Access token</source>
        <translation>访问令牌</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/engines_page.py" line="278" />
        <source>Allow the token over plain HTTP to this host (trusted network only)</source>
        <translation>允许通过普通 HTTP 向此主机发送令牌（仅限可信网络）</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/engines_page.py" line="279" />
        <source>Use this engine</source>
        <translation>使用此引擎</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/engines_page.py" line="108" />
        <source> (not used: token over plain HTTP)</source>
        <translation>（未使用：令牌将通过明文 HTTP 发送）</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/engines_page.py" line="285" />
        <source>Only for an address on your own network; elsewhere use https://.</source>
        <translation>仅适用于您自己网络中的地址；其他地址请使用 https://。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/engines_page.py" line="280" />
        <source>Jobs go to the first free engine in this order.</source>
        <translation>任务按此顺序交给第一个空闲的引擎。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/engines_page.py" line="281" />
        <source>Access tokens are kept in the system keyring.</source>
        <translation>访问令牌保存在系统密钥环中。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/engines_page.py" line="283" />
        <source>No system keyring was found: access tokens are stored in plain text in %1.</source>
        <translation>未找到系统密钥环：访问令牌以明文保存在 %1 中。</translation>
    </message>
</context>
<context>
    <name>EnhanceFlow</name>
    <message>
        <location filename="../../zimage_desktop/ui/enhance_flow.py" line="96" />
        <source>The enhanced scene is in the Scene field; the poster prompt was composed again.</source>
        <translation>扩写后的场景已放入“场景”栏，海报提示词已重新组合。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/enhance_flow.py" line="49" />
        <source>Write a short idea first, then press Enhance (Ctrl+E).</source>
        <translation>请先写下简短的想法，再按“扩写”（Ctrl+E）。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/enhance_flow.py" line="56" />
        <source>Enhancing the prompt with the text encoder…</source>
        <translation>正在用文本编码器扩写提示词…</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/enhance_flow.py" line="89" />
        <source>Enhanced in %1 s. Use it, edit it or discard it.</source>
        <translation>扩写完成，用时 %1 秒。可以使用、修改或放弃。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/enhance_flow.py" line="98" />
        <source>The enhanced prompt is in the prompt box; your own words are kept with the image.</source>
        <translation>扩写后的提示词已放入输入框；你的原话会随图片一起保存。</translation>
    </message>
</context>
<context>
    <name>EnhancePanel</name>
    <message>
        <location filename="../../zimage_desktop/ui/enhance_panel.py" line="89" />
        <source>Use this prompt</source>
        <translation>使用此提示词</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/enhance_panel.py" line="90" />
        <source>Discard</source>
        <translation>放弃</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/enhance_panel.py" line="91" />
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/enhance_panel.py" line="92" />
        <source>The enhanced prompt appears here as it is written.</source>
        <translation>扩写的提示词会在这里逐字出现。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/enhance_panel.py" line="104" />
        <source>Enhancing…</source>
        <translation>正在扩写…</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/enhance_panel.py" line="106" />
        <source>Enhanced prompt: edit it if you like, then use it or discard it. Shaded words were added.</source>
        <translation>扩写后的提示词：可以先修改，再使用或放弃。底色标出的是新增的词。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/enhance_panel.py" line="171" />
        <source>Stopped early: the prompt may be cut short.</source>
        <translation>已提前停止：提示词可能不完整。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/enhance_panel.py" line="173" />
        <source>Quoted text the rewrite had changed was put back: %1</source>
        <translation>扩写改动了引号中的文字，已恢复原文：%1</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/enhance_panel.py" line="116" />
        <source>Reading the idea…</source>
        <translation>正在读取构思…</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/enhance_panel.py" line="121" />
        <source>%1 tokens written · %2 s</source>
        <translation>已写 %1 个词元 · %2 秒</translation>
    </message>
</context>
<context>
    <name>GalleryView</name>
    <message>
        <location filename="../../zimage_desktop/ui/gallery.py" line="331" />
        <source>Image copied.</source>
        <translation>图片已复制。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/gallery.py" line="158" />
        <source>★ Favourites</source>
        <translation>★ 收藏</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/gallery.py" line="159" />
        <source>Show only favourites</source>
        <translation>只显示收藏</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/gallery.py" line="161" />
        <source>Add a folder of PNGs (this app, A1111/Forge, ComfyUI) to the history</source>
        <translation>把一个文件夹里的 PNG（本程序、A1111/Forge、ComfyUI 生成的）加入历史</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/gallery.py" line="162" />
        <source>More</source>
        <translation>更多</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/gallery.py" line="170" />
        <source>Copy image</source>
        <translation>复制图片</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/gallery.py" line="178" />
        <source>Favourite (F)</source>
        <translation>收藏 (F)</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/gallery.py" line="178" />
        <source>Re-run exactly (R)</source>
        <translation>原样重新生成 (R)</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/gallery.py" line="179" />
        <source>Delete (Del)</source>
        <translation>删除 (Del)</translation>
    </message>
    <message numerus="yes">
        <location filename="../../zimage_desktop/ui/gallery.py" line="279" />
        <source>Restored %n image(s).</source>
        <translation>
            <numerusform>已恢复 %n 张图片。</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/gallery.py" line="157" />
        <source>Search prompts (中文 or English)…</source>
        <translation>搜索提示词（中文或英文）…</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/gallery.py" line="164" />
        <source>Any time</source>
        <translation>任何时间</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/gallery.py" line="164" />
        <source>Today</source>
        <translation>今天</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/gallery.py" line="164" />
        <source>Last 7 days</source>
        <translation>最近 7 天</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/gallery.py" line="164" />
        <source>Last 30 days</source>
        <translation>最近 30 天</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/gallery.py" line="166" />
        <source>Any shape</source>
        <translation>任意比例</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/gallery.py" line="166" />
        <source>Square</source>
        <translation>方形</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/gallery.py" line="166" />
        <source>Landscape</source>
        <translation>横向</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/gallery.py" line="166" />
        <source>Portrait</source>
        <translation>纵向</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/gallery.py" line="168" />
        <source>Compare two</source>
        <translation>对比两张</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/gallery.py" line="169" />
        <source>Compare with the image on the canvas</source>
        <translation>与画布上的图片对比</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/gallery.py" line="170" />
        <source>Use parameters</source>
        <translation>使用参数</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/gallery.py" line="171" />
        <source>Re-run exactly</source>
        <translation>原样重新生成</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/gallery.py" line="172" />
        <source>Edit (inpaint, outpaint, upscale…)</source>
        <translation>编辑（局部重绘、扩图、放大…）</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/gallery.py" line="188" />
        <source>Nothing matches “%1”. Try other words, or clear the search and the filters.</source>
        <translation>没有与“%1”匹配的图片。换个词试试，或清除搜索和筛选。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/gallery.py" line="191" />
        <source>No image matches these filters. Set them back to show every image.</source>
        <translation>没有符合这些筛选条件的图片。恢复筛选即可显示全部图片。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/gallery.py" line="193" />
        <source>No images yet. Type what you want to see and press Ctrl+Enter: every image you make is kept here, with its prompt and seed.</source>
        <translation>还没有图片。输入想看到的画面，按 Ctrl+Enter：生成的每张图片都会连同提示词和种子保存在这里。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/gallery.py" line="298" />
        <source>Select two images to compare.</source>
        <translation>请选择两张图片进行对比。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/gallery.py" line="302" />
        <source>Compare</source>
        <translation>对比</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/gallery.py" line="339" />
        <source>Import images from folder</source>
        <translation>从文件夹导入图片</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/gallery.py" line="344" />
        <source>Imported %1 images; skipped %2 without usable parameters.</source>
        <translation>已导入 %1 张图片；跳过 %2 张没有可用参数的图片。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/gallery.py" line="168" />
        <source>View</source>
        <translation>查看</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/gallery.py" line="168" />
        <source>Export…</source>
        <translation>导出…</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/gallery.py" line="160" />
        <location filename="../../zimage_desktop/ui/gallery.py" line="163" />
        <source>Import…</source>
        <translation>导入…</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/gallery.py" line="171" />
        <source>Vary (new seed)</source>
        <translation>变体（新种子）</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/gallery.py" line="173" />
        <source>★ Favourite</source>
        <translation>★ 收藏</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/gallery.py" line="173" />
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/gallery.py" line="173" />
        <source>Undo delete</source>
        <translation>撤销删除</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/gallery.py" line="174" />
        <source>Open folder</source>
        <translation>打开文件夹</translation>
    </message>
    <message numerus="yes">
        <location filename="../../zimage_desktop/ui/gallery.py" line="268" />
        <source>Deleted %n image(s); Undo brings them back.</source>
        <translation>
            <numerusform>已删除 %n 张图片；“撤销删除”可恢复。</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/gallery.py" line="320" />
        <source>Export to folder</source>
        <translation>导出到文件夹</translation>
    </message>
    <message numerus="yes">
        <location filename="../../zimage_desktop/ui/gallery.py" line="324" />
        <source>Exported %n image(s).</source>
        <translation>
            <numerusform>已导出 %n 张图片。</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>GlyphBoxEditor</name>
    <message>
        <location filename="../../zimage_desktop/ui/glyph_boxes.py" line="93" />
        <location filename="../../zimage_desktop/ui/glyph_boxes.py" line="152" />
        <source>Move a text box</source>
        <translation>移动文字框</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/glyph_boxes.py" line="152" />
        <source>Resize a text box</source>
        <translation>调整文字框大小</translation>
    </message>
</context>
<context>
    <name>GlyphControl</name>
    <message>
        <location filename="../../zimage_desktop/ui/glyph_control.py" line="76" />
        <source>Move texts</source>
        <translation>移动文字</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/glyph_control.py" line="77" />
        <source>Move and resize the text boxes on the canvas: drag a box or its corner; arrow keys nudge (Shift: 10 px); Ctrl+Z undoes</source>
        <translation>在画布上移动和缩放文字框：拖动文字框或其右下角；方向键微调（按住 Shift：10 像素）；Ctrl+Z 撤销</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/glyph_control.py" line="71" />
        <source>Glyph control</source>
        <translation>字形控制</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/glyph_control.py" line="72" />
        <source>Draw the texts with this font as a control image, so the model draws these exact characters (needs the ControlNet Union add-on)</source>
        <translation>用此字体把文字绘制成控制图，让模型画出完全相同的字形（需要 ControlNet 扩展模型）</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/glyph_control.py" line="74" />
        <source>Font file…</source>
        <translation>字体文件…</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/glyph_control.py" line="75" />
        <source>Strength of the glyph control</source>
        <translation>字形控制的强度</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/glyph_control.py" line="138" />
        <source>Font file</source>
        <translation>字体文件</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/glyph_control.py" line="139" />
        <source>Fonts (*.ttf *.otf *.ttc *.otc)</source>
        <translation>字体 (*.ttf *.otf *.ttc *.otc)</translation>
    </message>
</context>
<context>
    <name>GuidanceFields</name>
    <message>
        <location filename="../../zimage_desktop/ui/guidance_fields.py" line="60" />
        <source>&amp;Negative prompt</source>
        <translation>反向提示词(&amp;N)</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/guidance_fields.py" line="61" />
        <source>What the picture should not show, e.g. blurry, watermark, 低质量</source>
        <translation>画面中不应出现的内容，例如：模糊、水印、低质量</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/guidance_fields.py" line="62" />
        <source>C&amp;FG scale</source>
        <translation>CFG 强度(&amp;F)</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/guidance_fields.py" line="63" />
        <source>How strongly the picture follows the prompt against the negative prompt (1 = no guidance; Z-Image: about 3 to 5). Each step runs the model twice.</source>
        <translation>画面在多大程度上遵循提示词、远离反向提示词（1 表示不引导；Z-Image 约为 3 到 5）。每一步都要运行模型两次。</translation>
    </message>
</context>
<context>
    <name>HistoryActions</name>
    <message>
        <location filename="../../zimage_desktop/ui/history_actions.py" line="92" />
        <source>The history was damaged and has been rebuilt from %1 images; the damaged file was kept at %2.</source>
        <translation>历史数据库已损坏，已根据 %1 张图片重建；损坏的文件保留在 %2。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/history_actions.py" line="84" />
        <source>History: %1 images are missing on disk, %2 images are not in the history (nothing was deleted; see `zimage-desktop history check`).</source>
        <translation>历史：%1 张图片的文件已不在磁盘上，%2 张图片不在历史中（未删除任何内容；详见 `zimage-desktop history check`）。</translation>
    </message>
    <message numerus="yes">
        <location filename="../../zimage_desktop/ui/history_actions.py" line="81" />
        <source>%n image(s) saved just before the app stopped were added to the history.</source>
        <translation>
            <numerusform>已将应用停止前刚保存的 %n 张图片加入历史。</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/history_actions.py" line="159" />
        <source>This image carries no parameters that can be restored.</source>
        <translation>这张图片没有可恢复的参数。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/file_dialogs.py" line="27" />
        <source>Save image as</source>
        <translation>图片另存为</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/history_actions.py" line="137" />
        <source>Reading %1…</source>
        <translation>正在读取 %1…</translation>
    </message>
</context>
<context>
    <name>ImageViewer</name>
    <message>
        <location filename="../../zimage_desktop/ui/viewer.py" line="98" />
        <source>◀ Newer  (←)</source>
        <translation>◀ 较新  (←)</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/viewer.py" line="99" />
        <source>Older  (→) ▶</source>
        <translation>较旧  (→) ▶</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/viewer.py" line="100" />
        <source>Use parameters</source>
        <translation>使用参数</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/viewer.py" line="100" />
        <source>Re-run exactly</source>
        <translation>原样重新生成</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/viewer.py" line="100" />
        <source>Vary (new seed)</source>
        <translation>变体（新种子）</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/viewer.py" line="101" />
        <source>★ Favourite</source>
        <translation>★ 收藏</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/viewer.py" line="101" />
        <source>Copy image</source>
        <translation>复制图片</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/viewer.py" line="101" />
        <source>Save as…</source>
        <translation>另存为…</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/viewer.py" line="102" />
        <source>Open folder</source>
        <translation>打开文件夹</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/viewer.py" line="102" />
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/viewer.py" line="50" />
        <source>load</source>
        <translation>加载</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/viewer.py" line="50" />
        <source>encode</source>
        <translation>编码</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/viewer.py" line="50" />
        <source>denoise</source>
        <translation>去噪</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/viewer.py" line="51" />
        <source>decode</source>
        <translation>解码</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/viewer.py" line="51" />
        <source>total</source>
        <translation>合计</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/viewer.py" line="57" />
        <source>%1 %2 s</source>
        <translation>%1 %2 秒</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/viewer.py" line="66" />
        <source>image to image</source>
        <translation>图生图</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/viewer.py" line="66" />
        <source>inpaint</source>
        <translation>局部重绘</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/viewer.py" line="66" />
        <source>outpaint</source>
        <translation>扩图</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/viewer.py" line="67" />
        <source>upscale</source>
        <translation>放大</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/viewer.py" line="68" />
        <source>%1, strength %2</source>
        <translation>%1，强度 %2</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/viewer.py" line="72" />
        <source>from #%1</source>
        <translation>来自 #%1</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/viewer.py" line="163" />
        <source>Size</source>
        <translation>尺寸</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/viewer.py" line="163" />
        <source>Seed</source>
        <translation>种子</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/viewer.py" line="163" />
        <source>Steps</source>
        <translation>步数</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/viewer.py" line="164" />
        <source>Sampler</source>
        <translation>采样器</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/viewer.py" line="165" />
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/viewer.py" line="166" />
        <source>Lineage</source>
        <translation>来源链</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/viewer.py" line="166" />
        <source>File</source>
        <translation>文件</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/viewer.py" line="170" />
        <source>Edited</source>
        <translation>编辑方式</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/viewer.py" line="172" />
        <source>Time</source>
        <translation>用时</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/viewer.py" line="173" />
        <source>: </source>
        <translation>：</translation>
    </message>
</context>
<context>
    <name>LoraPanel</name>
    <message>
        <location filename="../../zimage_desktop/ui/lora_panel.py" line="86" />
        <source>Search LoRAs</source>
        <translation>搜索 LoRA</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/lora_panel.py" line="87" />
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/lora_panel.py" line="88" />
        <source>Read the loras folder again</source>
        <translation>重新读取 loras 文件夹</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/lora_panel.py" line="89" />
        <source>Strength of the selected LoRA (-2 to 2)</source>
        <translation>所选 LoRA 的强度（-2 到 2）</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/lora_panel.py" line="146" />
        <source>%1 is in the loras folder already.</source>
        <translation>%1 已在 loras 文件夹中。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/lora_panel.py" line="147" />
        <source>Copy the LoRA %1 into the loras folder?</source>
        <translation>将 LoRA %1 复制到 loras 文件夹？</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/lora_panel.py" line="157" />
        <source>LoRA %1 added.</source>
        <translation>已添加 LoRA %1。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/lora_panel.py" line="162" />
        <source>Add LoRA</source>
        <translation>添加 LoRA</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/lora_panel.py" line="237" />
        <source>No LoRAs: put .safetensors files into the loras folder.</source>
        <translation>没有 LoRA：请把 .safetensors 文件放入 loras 文件夹。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/lora_panel.py" line="245" />
        <source>Trigger words (click to insert):</source>
        <translation>触发词（点击插入）：</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/lora_panel.py" line="246" />
        <source>No trigger words in this file.</source>
        <translation>此文件没有触发词。</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../../zimage_desktop/ui/window_events.py" line="78" />
        <source>Memory plan: %1</source>
        <translation>内存方案：%1</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/window_events.py" line="79" />
        <source>How the model is held in memory and its predicted peak for a 1024×1024 image, with the LoRAs in use.</source>
        <translation>模型在内存中的存放方式，以及生成一张 1024×1024 图像（含所用 LoRA）时预计的内存峰值。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="297" />
        <source>Parameters restored.</source>
        <translation>已恢复参数。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/window_models.py" line="91" />
        <source>Get models…</source>
        <translation>获取模型…</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="240" />
        <source>Z-Image Desktop</source>
        <translation>Z-Image 桌面版</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="241" />
        <source>Prompt</source>
        <translation>提示词</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="242" />
        <source>Poster</source>
        <translation>海报</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/queue_panel.py" line="180" />
        <source>Queue</source>
        <translation>队列</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/window_models.py" line="90" />
        <source>Generate  (Ctrl+Enter)</source>
        <translation>生成  (Ctrl+Enter)</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="246" />
        <source>Cancel  (Esc)</source>
        <translation>取消  (Esc)</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/queue_panel.py" line="27" />
        <source>steps</source>
        <translation>步</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/queue_panel.py" line="50" />
        <source>waiting</source>
        <translation>等待中</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/queue_panel.py" line="181" />
        <source>Up</source>
        <translation>上移</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/queue_panel.py" line="182" />
        <source>Down</source>
        <translation>下移</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/queue_panel.py" line="183" />
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/queue_panel.py" line="184" />
        <source>Cancel all</source>
        <translation>全部取消</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/queue_panel.py" line="93" />
        <location filename="../../zimage_desktop/ui/queue_panel.py" line="94" />
        <source>Cancel this job</source>
        <translation>取消此任务</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/queue_panel.py" line="102" />
        <source>[%1] </source>
        <translation>[%1] </translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/menus.py" line="98" />
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/menus.py" line="99" />
        <source>&amp;Edit</source>
        <translation>编辑(&amp;E)</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/menus.py" line="100" />
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/menus.py" line="101" />
        <source>&amp;Tools</source>
        <translation>工具(&amp;T)</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/menus.py" line="102" />
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/menus.py" line="103" />
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/menus.py" line="104" />
        <source>Open log folder</source>
        <translation>打开日志文件夹</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/menus.py" line="105" />
        <source>Save image as…</source>
        <translation>图片另存为…</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/menus.py" line="106" />
        <source>Open images folder</source>
        <translation>打开图片文件夹</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/menus.py" line="107" />
        <source>Quit</source>
        <translation>退出</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/menus.py" line="108" />
        <source>Copy image</source>
        <translation>复制图片</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/menus.py" line="109" />
        <source>Fit to window</source>
        <translation>适应窗口</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/menus.py" line="110" />
        <source>Actual size (100%)</source>
        <translation>实际大小 (100%)</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/menus.py" line="111" />
        <source>Zoom in</source>
        <translation>放大</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/menus.py" line="112" />
        <source>Zoom out</source>
        <translation>缩小</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/menus.py" line="113" />
        <source>History pane</source>
        <translation>历史面板</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/menus.py" line="114" />
        <source>Theme</source>
        <translation>主题</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/menus.py" line="116" />
        <source>Light</source>
        <translation>浅色</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/menus.py" line="117" />
        <source>Dark</source>
        <translation>深色</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/menus.py" line="118" />
        <source>Model manager…</source>
        <translation>模型管理…</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/menus.py" line="119" />
        <source>Settings…</source>
        <translation>设置…</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/menus.py" line="115" />
        <location filename="../../zimage_desktop/ui/menus.py" line="120" />
        <source>Follow the system</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="248" />
        <source>Your image appears here, step by step.</source>
        <translation>图片会在这里逐步显现。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="250" />
        <source>Ready.</source>
        <translation>就绪。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/window_events.py" line="61" />
        <source>Loading the model…</source>
        <translation>正在加载模型…</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/window_events.py" line="66" />
        <source>Model ready: %1</source>
        <translation>模型已就绪：%1</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/main_window.py" line="243" />
        <source>Edit</source>
        <translation>编辑</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/window_events.py" line="119" />
        <source>Done: seed %1, saved to %2</source>
        <translation>完成：种子 %1，已保存到 %2</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/window_events.py" line="120" />
        <source>(not saved)</source>
        <translation>（未保存）</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/window_events.py" line="129" />
        <source>Cancelled.</source>
        <translation>已取消。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/window_events.py" line="162" />
        <source>Something went wrong</source>
        <translation>出错了</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/window_events.py" line="169" />
        <source>Use the %1 profile</source>
        <translation>改用 %1 档位</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/window_models.py" line="69" />
        <source>No model files yet: choose what to download.</source>
        <translation>还没有模型文件：请选择要下载的内容。</translation>
    </message>
</context>
<context>
    <name>MaskEditor</name>
    <message>
        <location filename="../../zimage_desktop/ui/mask_editor.py" line="127" />
        <source>Invert the mask</source>
        <translation>反选蒙版</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/mask_editor.py" line="130" />
        <source>Clear the mask</source>
        <translation>清空蒙版</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/mask_editor.py" line="143" />
        <source>Rectangle</source>
        <translation>矩形</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/mask_editor.py" line="206" />
        <source>Erase</source>
        <translation>擦除</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/mask_editor.py" line="206" />
        <source>Brush stroke</source>
        <translation>画笔笔画</translation>
    </message>
</context>
<context>
    <name>ModelManagerDialog</name>
    <message>
        <location filename="../../zimage_desktop/ui/window_models.py" line="33" />
        <source>Use “Get models…” to download them or to use the files of an existing ComfyUI folder.</source>
        <translation>请点击“获取模型…”下载，或使用现有 ComfyUI 文件夹中的文件。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/window_models.py" line="36" />
        <source>the transformer (diffusion model)</source>
        <translation>扩散模型</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/window_models.py" line="37" />
        <source>the text encoder</source>
        <translation>文本编码器</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/window_models.py" line="38" />
        <source>the VAE</source>
        <translation>VAE</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/window_models.py" line="39" />
        <source>the configuration files</source>
        <translation>配置文件</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/window_models.py" line="40" />
        <source>Cannot generate yet: the models folder lacks %1.</source>
        <translation>暂时无法生成：模型文件夹缺少%1。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/window_models.py" line="41" />
        <source>, </source>
        <translation>、</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/window_models.py" line="42" />
        <source>Cannot generate yet: %1</source>
        <translation>暂时无法生成：%1</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="142" />
        <source>Retry</source>
        <translation>重试</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="143" />
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="224" />
        <source>Selected: %1 GB to download · already in the models folder: %2 GB · free on its drive: %3 GB</source>
        <translation>已选：需下载 %1 GB · 模型文件夹中已有 %2 GB · 所在磁盘可用 %3 GB</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="229" />
        <source>Not enough free space: %1 GB more are needed on the drive of %2.</source>
        <translation>磁盘空间不足：%2 所在磁盘还需要 %1 GB。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="299" />
        <source>Preparing the download…</source>
        <translation>正在准备下载…</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="335" />
        <source>Checking the connection to the download sources…</source>
        <translation>正在检查与下载源的连接…</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="343" />
        <source>%1 of %2 GB · %3 MB/s · %4 left · %5</source>
        <translation>%1 / %2 GB · %3 MB/s · 剩余 %4 · %5</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="347" />
        <source>Downloading models: %1% · %2 left</source>
        <translation>正在下载模型：%1% · 剩余 %2</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="132" />
        <source>Model manager</source>
        <translation>模型管理</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="133" />
        <source>Get</source>
        <translation>下载</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="133" />
        <source>Component</source>
        <translation>组件</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="133" />
        <source>Size</source>
        <translation>尺寸</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="133" />
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="135" />
        <source>Hugging Face</source>
        <translation>Hugging Face</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="134" />
        <source>Hugging Face mirror (%1)</source>
        <translation>Hugging Face 镜像（%1）</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="136" />
        <source>ModelScope (China)</source>
        <translation>魔搭 ModelScope（国内）</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="138" />
        <source>Source:</source>
        <translation>来源：</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="139" />
        <source>Download selected</source>
        <translation>下载所选</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="140" />
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="324" />
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="354" />
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="141" />
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="144" />
        <source>Use files from an existing ComfyUI folder…</source>
        <translation>使用已有 ComfyUI 文件夹中的模型…</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="176" />
        <source>Detecting this computer&apos;s graphics card and memory…</source>
        <translation>正在检测本机显卡和内存…</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="180" />
        <source>Recommended for this computer (%1): %2</source>
        <translation>本机推荐（%1）：%2</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="203" />
        <source>installed</source>
        <translation>已安装</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="203" />
        <source>verified</source>
        <translation>已校验</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="204" />
        <source>not installed</source>
        <translation>未安装</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="204" />
        <source>partly downloaded</source>
        <translation>部分已下载</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="205" />
        <source>incomplete</source>
        <translation>不完整</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="205" />
        <source>wrong size</source>
        <translation>大小不对</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="206" />
        <source>damaged</source>
        <translation>已损坏</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="285" />
        <source>Nothing selected.</source>
        <translation>未选择任何内容。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="340" />
        <source>Downloading…</source>
        <translation>正在下载…</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="327" />
        <source>Resume</source>
        <translation>继续</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="358" />
        <source>No download source can be reached (tried: %1). Check the internet connection (or the proxy or mirror address), then press Retry. From mainland China, ModelScope or a Hugging Face mirror usually answers: choose it under Source.</source>
        <translation>无法连接任何下载源（已尝试：%1）。请检查网络连接（或代理、镜像地址），然后点击“重试”。在中国大陆，ModelScope 或 Hugging Face 镜像通常可以访问：请在“来源”中选择。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="368" />
        <source>Download complete.</source>
        <translation>下载完成。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="375" />
        <source>Choose the ComfyUI models folder</source>
        <translation>选择 ComfyUI 的 models 文件夹</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="383" />
        <source>Imported %1 files without copying.</source>
        <translation>已导入 %1 个文件（未复制）。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_manager_dialog.py" line="135" />
        <source>Automatic (the fastest that answers)</source>
        <translation>自动（选响应最快的）</translation>
    </message>
</context>
<context>
    <name>ModelPicker</name>
    <message>
        <location filename="../../zimage_desktop/ui/model_picker.py" line="42" />
        <location filename="../../zimage_desktop/ui/model_picker.py" line="48" />
        <source>Automatic: %1</source>
        <translation>自动：%1</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/model_picker.py" line="49" />
        <source>Which model file makes the next image. Automatic: the planner picks the best form of %1 for this computer.</source>
        <translation>下一张图片使用哪个模型文件。自动：由规划器为这台电脑选择 %1 最合适的格式。</translation>
    </message>
</context>
<context>
    <name>ParametersForm</name>
    <message>
        <location filename="../../zimage_desktop/ui/parameters_form.py" line="122" />
        <source>Describe the image. For text in the picture, put the exact words in quotes and say font, colour and position, e.g. 标题文字“新春特惠”，金色粗体，居中</source>
        <translation>描述你想要的画面。需要在图中出现的文字请放在引号里，并说明字体、颜色和位置，例如：标题文字“新春特惠”，金色粗体，居中</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/parameters_form.py" line="125" />
        <source>Size</source>
        <translation>尺寸</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/parameters_form.py" line="125" />
        <source>Width × height</source>
        <translation>宽 × 高</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/parameters_form.py" line="126" />
        <source>Steps</source>
        <translation>步数</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/parameters_form.py" line="125" />
        <source>&amp;Model</source>
        <translation>模型(&amp;M)</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/parameters_form.py" line="127" />
        <source>Sampler</source>
        <translation>采样器</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/parameters_form.py" line="127" />
        <source>Seed</source>
        <translation>种子</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/parameters_form.py" line="127" />
        <source>Images</source>
        <translation>张数</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/parameters_form.py" line="128" />
        <source>LoRAs</source>
        <translation>LoRA</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/parameters_form.py" line="130" />
        <source>Random</source>
        <translation>随机</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/parameters_form.py" line="131" />
        <source>Reuse last</source>
        <translation>沿用上次</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/parameters_form.py" line="132" />
        <source>Enhance  (Ctrl+E)</source>
        <translation>扩写  (Ctrl+E)</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/parameters_form.py" line="134" />
        <source>Rewrite the idea into a detailed prompt with the text encoder already on disk (offline)</source>
        <translation>用已下载的文本编码器把想法扩写成详细的提示词（离线）</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/parameters_form.py" line="140" />
        <source>Models…</source>
        <translation>模型…</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/parameters_form.py" line="146" />
        <source>%1 / %2 tokens</source>
        <translation>%1 / %2 词元</translation>
    </message>
    <message numerus="yes">
        <location filename="../../zimage_desktop/ui/parameters_form.py" line="147" />
        <source>%n characters</source>
        <translation>
            <numerusform>%n 个字符</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/parameters_form.py" line="146" />
        <source>≈%1 / %2 tokens</source>
        <translation>≈%1 / %2 词元</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/parameters_form.py" line="169" />
        <source>Adjusted %1×%2 to %3×%4: sides must be multiples of 16 between 256 and 2048.</source>
        <translation>已将 %1×%2 调整为 %3×%4：边长须为 16 的倍数，范围 256 到 2048。</translation>
    </message>
</context>
<context>
    <name>PlanText</name>
    <message>
        <location filename="../../zimage_desktop/ui/plan_text.py" line="88" />
        <source>Form</source>
        <translation>存储形式</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/plan_text.py" line="88" />
        <source>Size GiB</source>
        <translation>大小 GiB</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/plan_text.py" line="89" />
        <source>Peak</source>
        <translation>峰值</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/plan_text.py" line="18" />
        <source>bf16 transformer</source>
        <translation>bf16 主模型</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/plan_text.py" line="18" />
        <source>FP8-stored transformer</source>
        <translation>FP8 存储的主模型</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/plan_text.py" line="19" />
        <source>GGUF %1 transformer</source>
        <translation>GGUF %1 主模型</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/plan_text.py" line="20" />
        <source>on the GPU</source>
        <translation>在显卡上</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/plan_text.py" line="20" />
        <source>on the Apple GPU</source>
        <translation>在 Apple 显卡上</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/plan_text.py" line="21" />
        <source>on the CPU</source>
        <translation>在 CPU 上</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/plan_text.py" line="22" />
        <source>swapped in and out of the GPU per stage</source>
        <translation>按阶段换入换出显存</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/plan_text.py" line="23" />
        <source>streamed to the GPU layer by layer</source>
        <translation>逐层流式载入显存</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/plan_text.py" line="24" />
        <source>streamed to the GPU module by module</source>
        <translation>逐模块流式载入显存</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/plan_text.py" line="26" />
        <source>as int8 layers</source>
        <translation>以 int8 层计算</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/plan_text.py" line="29" />
        <source>text encoder on the GPU</source>
        <translation>文本编码器在显卡上</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/plan_text.py" line="30" />
        <source>text encoder moved to the GPU only to encode</source>
        <translation>文本编码器仅在编码时载入显卡</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/plan_text.py" line="31" />
        <source>text encoder on the CPU</source>
        <translation>文本编码器在 CPU 上</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/plan_text.py" line="35" />
        <source>GGUF %1 text encoder, kept quantized</source>
        <translation>GGUF %1 文本编码器，保持量化</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/plan_text.py" line="37" />
        <source>tiled VAE</source>
        <translation>分块 VAE 解码</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/plan_text.py" line="39" />
        <source>float16 compute (float32 if it overflows)</source>
        <translation>float16 计算（溢出时改用 float32）</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/plan_text.py" line="41" />
        <source>float32 compute</source>
        <translation>float32 计算</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/plan_text.py" line="50" />
        <source>the GPU&apos;s share with it would be %1 GiB, over the %2 GiB macOS lets the GPU use</source>
        <translation>若也放在 GPU 上，GPU 所需将达 %1 GiB，超过 macOS 允许 GPU 使用的 %2 GiB</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/plan_text.py" line="52" />
        <source>unified memory: on the CPU it would take the same memory and run slower</source>
        <translation>统一内存：放在 CPU 上占用同样的内存，且运行更慢</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/plan_text.py" line="58" />
        <source>≈ %1 GiB RAM</source>
        <translation>约 %1 GiB 内存</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/plan_text.py" line="60" />
        <source>peak ≈ %1 GiB VRAM, %2 GiB RAM</source>
        <translation>峰值约 %1 GiB 显存、%2 GiB 内存</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/plan_text.py" line="65" />
        <source>may not fit</source>
        <translation>可能放不下</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/plan_text.py" line="43" />
        <source>, </source>
        <translation>，</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/plan_text.py" line="79" />
        <source>Text encoder</source>
        <translation>文本编码器</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/plan_text.py" line="79" />
        <source>Transformer</source>
        <translation>变换器</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/plan_text.py" line="80" />
        <source>VAE</source>
        <translation>VAE</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/plan_text.py" line="80" />
        <source>LoRA matrices</source>
        <translation>LoRA 矩阵</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/plan_text.py" line="81" />
        <source>LoRA backup</source>
        <translation>LoRA 备份</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/plan_text.py" line="82" />
        <source>Earlier LoRA files</source>
        <translation>之前用过的 LoRA 文件</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/plan_text.py" line="82" />
        <source>ControlNet</source>
        <translation>ControlNet</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/plan_text.py" line="83" />
        <source>Enhance</source>
        <translation>扩写</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/plan_text.py" line="83" />
        <source>Encode</source>
        <translation>编码</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/plan_text.py" line="84" />
        <source>Encode picture</source>
        <translation>图片编码</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/plan_text.py" line="85" />
        <source>Denoise</source>
        <translation>去噪</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/plan_text.py" line="85" />
        <source>Decode</source>
        <translation>解码</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/plan_text.py" line="88" />
        <source>Load</source>
        <translation>加载</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/plan_text.py" line="86" />
        <location filename="../../zimage_desktop/ui/plan_text.py" line="94" />
        <source>RAM</source>
        <translation>内存</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/plan_text.py" line="87" />
        <source>streamed</source>
        <translation>流式</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/plan_text.py" line="92" />
        <source>pinned</source>
        <translation>锁页</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/plan_text.py" line="93" />
        <source>copy in RAM</source>
        <translation>内存中留副本</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/plan_text.py" line="100" />
        <source>VRAM GiB</source>
        <translation>显存 GiB</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/plan_text.py" line="102" />
        <source>RAM GiB</source>
        <translation>内存 GiB</translation>
    </message>
</context>
<context>
    <name>PosterPanel</name>
    <message>
        <location filename="../../zimage_desktop/ui/poster.py" line="313" />
        <source>%1 / %2 tokens</source>
        <translation>%1 / %2 词元</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/poster.py" line="313" />
        <source>≈%1 / %2 tokens (estimated until the models are installed)</source>
        <translation>≈%1 / %2 词元（安装模型前为估算值）</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/poster.py" line="346" />
        <source>The prompt is %1 tokens long; Z-Image reads at most %2. Shorten it to generate.</source>
        <translation>提示词有 %1 个词元，Z-Image 最多只读取 %2 个。请缩短后再生成。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/poster.py" line="347" />
        <source>The prompt is about %1 tokens long; Z-Image reads at most %2. Shorten it.</source>
        <translation>提示词约有 %1 个词元，Z-Image 最多只读取 %2 个。请缩短。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/poster.py" line="359" />
        <source>Long prompt</source>
        <translation>提示词过长</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/poster.py" line="360" />
        <source>The count is an estimate. Generate anyway?</source>
        <translation>这个数目是估算值。仍要生成吗？</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/poster.py" line="187" />
        <source>Enhance the scene</source>
        <translation>扩写场景</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/poster.py" line="178" />
        <source>Template</source>
        <translation>模板</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/poster.py" line="178" />
        <source>Format</source>
        <translation>尺寸格式</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/poster.py" line="178" />
        <source>Describe in</source>
        <translation>描述语言</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/poster.py" line="179" />
        <source>Headline</source>
        <translation>主标题</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/poster.py" line="179" />
        <source>Subtitle</source>
        <translation>副标题</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/poster.py" line="180" />
        <source>Body lines</source>
        <translation>正文（每行一条）</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/poster.py" line="180" />
        <source>Call to action</source>
        <translation>行动号召</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/poster.py" line="181" />
        <source>Small print</source>
        <translation>底部说明</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/poster.py" line="181" />
        <source>Scene</source>
        <translation>画面内容</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/poster.py" line="181" />
        <source>Style</source>
        <translation>风格</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/poster.py" line="182" />
        <source>Layout</source>
        <translation>版式</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/poster.py" line="182" />
        <source>Font feel</source>
        <translation>字体感觉</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/poster.py" line="182" />
        <source>Colours</source>
        <translation>配色</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/poster.py" line="183" />
        <source>Prompt</source>
        <translation>提示词</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/poster.py" line="185" />
        <source>Save as template…</source>
        <translation>另存为模板…</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/poster.py" line="186" />
        <source>Compose again</source>
        <translation>重新生成提示词</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/poster.py" line="189" />
        <source>Variants</source>
        <translation>多个变体</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/poster.py" line="190" />
        <source>Generate this many variants, each with its own seed</source>
        <translation>生成这么多个变体，每个使用各自的种子</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/poster.py" line="191" />
        <source>Generate  (Ctrl+Enter)</source>
        <translation>生成  (Ctrl+Enter)</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/poster.py" line="192" />
        <source>Choose a template…</source>
        <translation>选择模板…</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/poster.py" line="259" />
        <source>Save as template</source>
        <translation>另存为模板</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/poster.py" line="259" />
        <source>Name:</source>
        <translation>名称：</translation>
    </message>
</context>
<context>
    <name>Progress</name>
    <message>
        <location filename="../../zimage_desktop/ui/progress_text.py" line="20" />
        <source>step %1/%2</source>
        <translation>第 %1/%2 步</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/progress_text.py" line="22" />
        <source>starting</source>
        <translation>准备开始</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/progress_text.py" line="23" />
        <source>loading the model</source>
        <translation>正在加载模型</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/progress_text.py" line="24" />
        <source>reading the prompt</source>
        <translation>正在读取提示词</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/progress_text.py" line="25" />
        <source>decoding the image</source>
        <translation>正在解码图像</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/progress_text.py" line="26" />
        <source>saving</source>
        <translation>正在保存</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/progress_text.py" line="33" />
        <source>about %1 s left</source>
        <translation>约剩 %1 秒</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/progress_text.py" line="34" />
        <source>about %1 min left</source>
        <translation>约剩 %1 分钟</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/progress_text.py" line="69" />
        <source>Cancelling…</source>
        <translation>正在取消…</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/progress_text.py" line="70" />
        <source>Image %1/%2</source>
        <translation>第 %1/%2 张</translation>
    </message>
</context>
<context>
    <name>RecallFieldsDialog</name>
    <message>
        <location filename="../../zimage_desktop/ui/recall_fields.py" line="20" />
        <source>Restore parameters</source>
        <translation>恢复参数</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/recall_fields.py" line="22" />
        <source>Take these settings from %1:</source>
        <translation>从 %1 中采用以下设置：</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/recall_fields.py" line="46" />
        <source>Prompt: %1</source>
        <translation>提示词：%1</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/recall_fields.py" line="47" />
        <source>Seed: %1</source>
        <translation>种子：%1</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/recall_fields.py" line="48" />
        <source>Steps: %1</source>
        <translation>步数：%1</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/recall_fields.py" line="49" />
        <source>Size: %1×%2</source>
        <translation>尺寸：%1×%2</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/recall_fields.py" line="51" />
        <source>Sampler: %1, %2</source>
        <translation>采样器：%1，%2</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/recall_fields.py" line="53" />
        <source>LoRAs: %1</source>
        <translation>LoRA：%1</translation>
    </message>
</context>
<context>
    <name>RecommendedSet</name>
    <message>
        <location filename="../../zimage_desktop/ui/recommended_set.py" line="50" />
        <source>Detecting this computer…</source>
        <translation>正在检测这台电脑…</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/recommended_set.py" line="52" />
        <source>Download the recommended set (%1 GB)</source>
        <translation>下载推荐的模型组合（%1 GB）</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/recommended_set.py" line="54" />
        <source>The recommended set is installed</source>
        <translation>推荐的模型组合已安装</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/recommended_set.py" line="56" />
        <source>Choose files…</source>
        <translation>选择文件…</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/recommended_set.py" line="57" />
        <source>Into the models folder: %1 (change it in Settings)</source>
        <translation>保存到模型文件夹：%1（可在“设置”中更改）</translation>
    </message>
</context>
<context>
    <name>SamplingControls</name>
    <message>
        <location filename="../../zimage_desktop/ui/sampling_controls.py" line="37" />
        <source>Euler</source>
        <translation>Euler</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/sampling_controls.py" line="37" />
        <source>Res multistep</source>
        <translation>Res multistep</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/sampling_controls.py" line="38" />
        <source>Simple schedule (ComfyUI)</source>
        <translation>简单调度（与 ComfyUI 相同）</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/sampling_controls.py" line="38" />
        <source>Diffusers schedule</source>
        <translation>管线自带调度（Diffusers）</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/sampling_controls.py" line="42" />
        <source>Euler is ComfyUI&apos;s Z-Image example; res multistep is its current template.</source>
        <translation>Euler 是 ComfyUI 的 Z-Image 示例所用的采样器；res multistep 是其当前模板所用的。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/sampling_controls.py" line="43" />
        <source>With the same seed, the simple schedule makes ComfyUI&apos;s picture; the diffusers schedule is the pipeline&apos;s own, used by this app&apos;s older images.</source>
        <translation>使用相同种子时，Simple 调度生成与 ComfyUI 相同的图片；Diffusers 调度是管线自带的调度，本应用较早的图片使用它。</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="135" />
        <source>Off: the token goes to huggingface.co only. Turn on only for a mirror you trust with your account.</source>
        <translation>关闭时令牌只发送给 huggingface.co。仅当你信任此镜像可以使用你的账号时才打开。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="134" />
        <source>Also send the Hugging Face token to this mirror (HTTPS only)</source>
        <translation>也把 Hugging Face 令牌发送给此镜像（仅限 HTTPS）</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="116" />
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="119" />
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="120" />
        <source>Follow the system</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="127" />
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="128" />
        <source>Start the app with --data-dir or ZIMAGE_DESKTOP_DATA to move it.</source>
        <translation>用 --data-dir 或 ZIMAGE_DESKTOP_DATA 启动即可更换位置。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="121" />
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="126" />
        <source>Automatic</source>
        <translation>自动</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="129" />
        <source>Show a preview after every step</source>
        <translation>每一步都显示预览</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="122" />
        <source>Hugging Face</source>
        <translation>Hugging Face</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="117" />
        <source>General</source>
        <translation>常规</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="118" />
        <source>Engines</source>
        <translation>引擎</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="120" />
        <source>Light</source>
        <translation>浅色</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="120" />
        <source>Dark</source>
        <translation>深色</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="123" />
        <source>Hugging Face mirror</source>
        <translation>Hugging Face 镜像</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="123" />
        <source>ModelScope (China)</source>
        <translation>魔搭 ModelScope（国内）</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="130" />
        <source>Faster on the CPU: int8 layers (the picture changes slightly)</source>
        <translation>在 CPU 上更快：int8 层（画面会有细微变化）</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="131" />
        <source>For a GGUF transformer on the CPU profile: each step 2–3× faster, about 1 GiB more memory; pictures differ from the file&apos;s exact ones by about half a grey level on average. x86 processors only.</source>
        <translation>适用于 CPU 配置下的 GGUF 扩散模型：每一步快 2–3 倍，多占约 1 GiB 内存；画面与按文件精确计算的结果平均相差约半个灰度级。仅限 x86 处理器。</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="137" />
        <source>optional; stored readable only by you</source>
        <translation>可选；仅你本人可读</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="138" />
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="138" />
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="151" />
        <source>Models folder</source>
        <translation>模型文件夹</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="138" />
        <source>Theme</source>
        <translation>主题</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="139" />
        <source>Data folder</source>
        <translation>数据文件夹</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="139" />
        <source>Device</source>
        <translation>设备</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="140" />
        <source>Memory profile</source>
        <translation>显存档位</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="140" />
        <source>Download source</source>
        <translation>下载来源</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="141" />
        <source>Mirror address</source>
        <translation>镜像地址</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="141" />
        <source>Hugging Face token</source>
        <translation>Hugging Face 令牌</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="161" />
        <source>Detecting this computer&apos;s graphics card and memory…</source>
        <translation>正在检测本机显卡和内存…</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/settings_dialog.py" line="122" />
        <source>Automatic (the fastest that answers)</source>
        <translation>自动（选响应最快的）</translation>
    </message>
</context>
<context>
    <name>SizeCombo</name>
    <message>
        <location filename="../../zimage_desktop/ui/size_combo.py" line="98" />
        <source>Custom size…</source>
        <translation>自定义尺寸…</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/size_combo.py" line="94" />
        <source>Draft — quick looks on a slow machine</source>
        <translation>草稿：慢机器上快速预览</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/size_combo.py" line="94" />
        <source>Square</source>
        <translation>方形</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/size_combo.py" line="95" />
        <source>Landscape</source>
        <translation>横向</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/size_combo.py" line="95" />
        <source>Portrait</source>
        <translation>纵向</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/size_combo.py" line="96" />
        <source>photo</source>
        <translation>照片</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/size_combo.py" line="96" />
        <source>screen</source>
        <translation>屏幕</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/size_combo.py" line="96" />
        <source>phone</source>
        <translation>手机</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/size_combo.py" line="97" />
        <source>cinema</source>
        <translation>电影</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/size_combo.py" line="97" />
        <source>banner</source>
        <translation>横幅</translation>
    </message>
    <message>
        <location filename="../../zimage_desktop/ui/size_combo.py" line="106" />
        <source>slower</source>
        <translation>较慢</translation>
    </message>
</context>
</TS>
