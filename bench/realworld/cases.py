"""The cases of prepare_more.py: files of public model repositories, our drivers and mutations.

Each case: name (NAME.py / NAME_mut.py), repo and path of the file, its blob at the snapshot the
driver was written against, drop_modules / drop_names / replace (see prepare_more.py), driver
(our code, appended after their last line), mutation ((old, new): the one edit of the driver that
makes torch raise a shape error; ``old`` occurs once in the driver) and why (what it models).
"""

SNAPSHOTS = {
    "kuangliu/pytorch-cifar": "49b7aa97b0c12fe0d4054e670403a16b6b834ddd",
    "weiaicunzai/pytorch-cifar100": "11d8418f415b261e4ae3cb1ffe20d06ec95b98e4",
    "karpathy/nanoGPT": "3adf61e154c3fe3fca428ad6bc3818b27a3b8291",
    "lucidrains/vit-pytorch": "69d24fe9e3024c0d4b02761123b8583a24ebed1e",
    "eriklindernoren/PyTorch-GAN": "36d3c77e5ff20ebe0aeefd322326a134a279b93e",
    "AntixK/PyTorch-VAE": "a6896b944c918dd7030e7d795a8c13e5c6345ec7",
    "yunjey/pytorch-tutorial": "0500d3df5a2a8080ccfccbc00aca0eacc21818db",
    "milesial/Pytorch-UNet": "21d7850f2af30a9695bbeea75f3136aa538cfc4a",
    "jadore801120/attention-is-all-you-need-pytorch": "132907dd272e2cc92e3c10e6c4e783a87ff8893d",
}


def cifar_driver(build, batch=2, classes=10, channels=3, size=32, functional=True):
    """A CIFAR classifier called on a batch, with a cross-entropy loss."""
    loss = "F.cross_entropy(y, targets)" if functional else "nn.CrossEntropyLoss()(y, targets)"
    return ("import torch\n"
            "import torch.nn.functional as F\n"
            "net = %s\n"
            "x = torch.randn(%d, %d, %d, %d)\n"
            "targets = torch.randint(0, %d, (%d,))\n"
            "y = net(x)\n"
            "loss = %s\n"
            "pred = y.argmax(dim=1)\n" % (build, batch, channels, size, size, classes, batch,
                                          loss))


def x_of(batch=2, channels=3, size=32):
    return "x = torch.randn(%d, %d, %d, %d)" % (batch, channels, size, size)


KUANG = "kuangliu/pytorch-cifar"
C100 = "weiaicunzai/pytorch-cifar100"

CIFAR = [
    dict(name="kl_densenet", repo=KUANG, path="models/densenet.py",
         blob="47ebbbe08e40503d6785711acd8bd7dd2cdba768",
         driver=cifar_driver("densenet_cifar()"),
         mutation=(x_of(), x_of(size=64)),
         why="64x64 images: avg_pool2d(out, 4) leaves 2x2, the classifier is sized for 1x1"),
    dict(name="kl_dla", repo=KUANG, path="models/dla.py",
         blob="269b7ffe23204b04162c96f0c75a7918c8c168f9",
         driver=cifar_driver("DLA()"),
         mutation=(x_of(), x_of(channels=1)),
         why="grayscale images into an RGB stem"),
    dict(name="kl_dpn", repo=KUANG, path="models/dpn.py",
         blob="d334367fcc9876b104a94b7ae333362ea0a64469",
         driver=cifar_driver("DPN26()"),
         mutation=(x_of(), x_of(size=64)),
         why="64x64 images: the flattened features no longer match the classifier"),
    dict(name="kl_efficientnet", repo=KUANG, path="models/efficientnet.py",
         blob="53d8c7b0567e48725f3c68ea6299bd8e4eabf3b5", driver=cifar_driver("EfficientNetB0()"),
         mutation=(x_of(), "x = torch.randn(2, 32, 32, 3)"),
         why="channels-last images (N, H, W, C) into a channels-first network"),
    dict(name="kl_googlenet", repo=KUANG, path="models/googlenet.py",
         blob="de036d87d323ee4f9c5a2f7944068a9322b0630d", driver=cifar_driver("GoogLeNet()"),
         mutation=(x_of(), x_of(size=64)),
         why="64x64 images: AvgPool2d(8) leaves 2x2 before the 1024-wide classifier"),
    dict(name="kl_mobilenetv2", repo=KUANG, path="models/mobilenetv2.py",
         blob="17e5823ef4426ceceae462782a267f89b1ecbc76", driver=cifar_driver("MobileNetV2()"),
         mutation=(x_of(), x_of(channels=4)),
         why="RGBA images into an RGB stem"),
    dict(name="kl_pnasnet", repo=KUANG, path="models/pnasnet.py",
         blob="de8c4d51f2667f84eab86f29be9a00ea7d0ad1c3", driver=cifar_driver("PNASNetA()"),
         mutation=(x_of(), x_of(size=64)),
         why="64x64 images: the pooled features no longer match the classifier"),
    dict(name="kl_regnet", repo=KUANG, path="models/regnet.py",
         blob="5d59c1ab007b1b19b39b166f92c39ee70099b059", driver=cifar_driver("RegNetX_200MF()"),
         mutation=("targets = torch.randint(0, 10, (2,))",
                   "targets = torch.randint(0, 10, (4,))"),
         why="targets of another batch than the logits"),
    dict(name="kl_resnext", repo=KUANG, path="models/resnext.py",
         blob="7a08f3e7d9fdf3b65aad5b773d4d113c6b796423", driver=cifar_driver("ResNeXt29_2x64d()"),
         mutation=(x_of(), x_of(size=64)),
         why="64x64 images: avg_pool2d(out, 8) leaves 2x2, the classifier is sized for 1x1"),
    dict(name="kl_senet", repo=KUANG, path="models/senet.py",
         blob="98bfa0ca51dcd07b586432c9f9460be8d1f0b745", driver=cifar_driver("SENet18()"),
         mutation=(x_of(), x_of(channels=1)),
         why="grayscale images into an RGB stem"),
    dict(name="kl_shufflenetv2", repo=KUANG, path="models/shufflenetv2.py",
         blob="eefcda32059f0b8575148098c78ff5d84effd388", driver=cifar_driver("ShuffleNetV2(net_size=0.5)", batch=3),
         mutation=(x_of(batch=3), x_of(batch=3, size=64)),
         why="64x64 images: avg_pool2d(out, 4) leaves 2x2, the classifier is sized for 1x1"),
    dict(name="kl_vgg", repo=KUANG, path="models/vgg.py",
         blob="08347ffa999c0cf71418f36a50fa649bd4dabea7", driver=cifar_driver("VGG('VGG11')"),
         mutation=(x_of(), x_of(size=64)),
         why="64x64 images: the 512-wide classifier gets 512 * 2 * 2 features"),
    dict(name="kl_lenet", repo=KUANG, path="models/lenet.py",
         blob="d657b7482a75a3058e5795f367dfbb32e948b9d5", driver=cifar_driver("LeNet()"),
         mutation=(x_of(), x_of(size=28)),
         why="MNIST-sized 28x28 images into the 32x32 LeNet: fc1 gets 16*4*4"),
    dict(name="kl_preact_resnet", repo=KUANG, path="models/preact_resnet.py",
         blob="abb1bc313c011d2ee650c353c515e2cd404503f3", driver=cifar_driver("PreActResNet18()"),
         mutation=(x_of(), x_of(channels=1)),
         why="grayscale images into an RGB stem"),
    dict(name="kl_dla_simple", repo=KUANG, path="models/dla_simple.py",
         blob="3acaba68014993ed6235f6ce40272a226b32610a", driver=cifar_driver("SimpleDLA()"),
         mutation=(x_of(), x_of(size=64)),
         why="64x64 images: avg_pool2d(out, 4) leaves 2x2, the classifier is sized for 1x1"),
    dict(name="c100_densenet", repo=C100, path="models/densenet.py",
         blob="11d5616febfa15212dd9bfaace3625f974aa1db0", driver=cifar_driver("densenet121()", classes=100),
         mutation=(x_of(), x_of(channels=1)),
         why="grayscale images into an RGB stem (features built with add_module)"),
    dict(name="c100_rir", repo=C100, path="models/rir.py",
         blob="a4a1f63f8e90ac57dff742b1965f5805bc287cb9", driver=cifar_driver("resnet_in_resnet()", classes=100),
         mutation=(x_of(), x_of(size=64)),
         why="64x64 images: the classifier's Linear(900, ...) gets 100 * 15 * 15 features"),
    dict(name="c100_inceptionv4", repo=C100, path="models/inceptionv4.py",
         blob="ff76a1398fcc8117704b423db6324676ffb35caa", driver=cifar_driver("inceptionv4()", classes=100),
         mutation=(x_of(), x_of(channels=1)),
         why="grayscale images into an RGB stem (stages built with add_module)"),
    dict(name="c100_squeezenet", repo=C100, path="models/squeezenet.py",
         blob="a8821eb59e60e8022e1ede9c76f263c9a4e3d8d0", driver=cifar_driver("squeezenet(class_num=100)", classes=100),
         mutation=(x_of(), "x = torch.randn(2, 32, 32, 3)"),
         why="channels-last images into a channels-first network"),
    dict(name="c100_xception", repo=C100, path="models/xception.py",
         blob="b86ecc319dea4606356c6f67ff28790a664177d6", driver=cifar_driver("xception()", classes=100),
         mutation=("targets = torch.randint(0, 100, (2,))",
                   "targets = torch.randint(0, 100, (3,))"),
         why="targets of another batch than the logits"),
    dict(name="c100_nasnet", repo=C100, path="models/nasnet.py",
         blob="f13e522c9eb7ae3578bc618887a0f4aa51fc0c60", driver=cifar_driver("nasnet()", classes=100),
         mutation=(x_of(), x_of(channels=1)),
         why="grayscale images into an RGB stem"),
    dict(name="c100_attention", repo=C100, path="models/attention.py",
         blob="42e420514f6f48475ce5d2a9ee4bd2448314ffab", driver=cifar_driver("attention56()", classes=100),
         mutation=(x_of(), "x = torch.randn(2, 32, 32, 3)"),
         why="channels-last images into a channels-first network"),
    dict(name="c100_wideresnet", repo=C100, path="models/wideresidual.py",
         blob="8b07b350c5b1b5ef02e5b6be740773ec75f58f7d", driver=cifar_driver(
             "wideresnet(depth=16, widen_factor=2)", classes=100),
         mutation=(x_of(), x_of(channels=1)),
         why="grayscale images into an RGB stem"),
    dict(name="c100_resnet", repo=C100, path="models/resnet.py",
         blob="42594882c8eafba5276c1ebf082ad35617efc2c3", driver=cifar_driver(
             "resnet18()", classes=100),
         mutation=(x_of(), "x = torch.randn(3, 32, 32)"),
         why="one image without its batch dim"),
]

NANOGPT = "karpathy/nanoGPT"
VIT = "lucidrains/vit-pytorch"

TRANSFORMERS = [
    dict(name="nanogpt_train", repo=NANOGPT, path="model.py", blob="c698f8b60129d793494de058b0dd4e318c0dcb5e",
         driver="""\
config = GPTConfig(block_size=64, vocab_size=96, n_layer=2, n_head=4, n_embd=64, dropout=0.0)
model = GPT(config)
idx = torch.randint(0, config.vocab_size, (4, 64))
targets = torch.randint(0, config.vocab_size, (4, 64))
logits, loss = model(idx, targets)
""",
         mutation=("targets = torch.randint(0, config.vocab_size, (4, 64))",
                   "targets = torch.randint(0, config.vocab_size, (4, 63))"),
         why="next-token targets one shorter than the input (an off-by-one shift)"),
    dict(name="nanogpt_sample", repo=NANOGPT, path="model.py", blob="c698f8b60129d793494de058b0dd4e318c0dcb5e",
         driver="""\
config = GPTConfig(block_size=32, vocab_size=65, n_layer=2, n_head=2, n_embd=32, bias=False)
model = GPT(config)
model.eval()
idx = torch.zeros((1, 1), dtype=torch.long)
logits, _ = model(idx)
probs = F.softmax(logits[:, -1, :], dim=-1)
next_idx = torch.multinomial(probs, num_samples=1)
idx = torch.cat((idx, next_idx), dim=1)
out = model.generate(idx, max_new_tokens=4, top_k=5)
""",
         mutation=("idx = torch.cat((idx, next_idx), dim=1)",
                   "idx = torch.cat((idx, next_idx.view(-1)), dim=1)"),
         why="the sampled token flattened before it is appended"),
    dict(name="nanogpt_head", repo=NANOGPT, path="model.py", blob="c698f8b60129d793494de058b0dd4e318c0dcb5e",
         driver="""\
config = GPTConfig(block_size=16, vocab_size=50, n_layer=1, n_head=2, n_embd=24, dropout=0.1)
model = GPT(config)
idx = torch.randint(0, 50, (2, 16))
x = model.transformer.wte(idx) + model.transformer.wpe(torch.arange(16))
for block in model.transformer.h:
    x = block(x)
x = model.transformer.ln_f(x)
logits = model.lm_head(x)
""",
         mutation=("x = model.transformer.wte(idx) + model.transformer.wpe(torch.arange(16))",
                   "x = model.transformer.wte(idx) + model.transformer.wpe(torch.arange(15))"),
         why="positions one shorter than the tokens"),
    dict(name="vit", repo=VIT, path="vit_pytorch/vit.py", blob="4fd985303071ed8c81e76df2c9ef99e58e036006",
         driver="""\
v = ViT(image_size=64, patch_size=16, num_classes=10, dim=64, depth=2, heads=4, mlp_dim=128,
        dropout=0.1, emb_dropout=0.1)
img = torch.randn(2, 3, 64, 64)
preds = v(img)
""",
         mutation=("img = torch.randn(2, 3, 64, 64)", "img = torch.randn(2, 1, 64, 64)"),
         why="grayscale images: the patch embedding's Linear is sized for 3 channels"),
    dict(name="simple_vit", repo=VIT, path="vit_pytorch/simple_vit.py", blob="2337e47f49b087f73491c839c0e19e305e9e80dc",
         driver="""\
v = SimpleViT(image_size=32, patch_size=8, num_classes=10, dim=64, depth=2, heads=4,
              mlp_dim=128)
img = torch.randn(3, 3, 32, 32)
preds = v(img)
""",
         mutation=("img = torch.randn(3, 3, 32, 32)", "img = torch.randn(3, 4, 32, 32)"),
         why="RGBA images: the patch embedding's LayerNorm is sized for 3 channels"),
    dict(name="cait", repo=VIT, path="vit_pytorch/cait.py", blob="f95cae25e7e17292837bfaa2c66361bbe9fc8cd7",
         driver="""\
v = CaiT(image_size=64, patch_size=16, num_classes=10, dim=64, depth=2, cls_depth=1,
         heads=4, mlp_dim=128, dropout=0.1, emb_dropout=0.1, layer_dropout=0.05)
img = torch.randn(2, 3, 64, 64)
preds = v(img)
""",
         mutation=("img = torch.randn(2, 3, 64, 64)", "img = torch.randn(2, 3, 96, 96)"),
         why="larger images: more patches than the positional embedding has"),
    dict(name="cct", repo=VIT, path="vit_pytorch/cct.py", blob="4231156ee2f9424d5061dfafa9d87d6e874b54b5",
         driver="""\
model = CCT(img_size=(32, 64), embedding_dim=64, n_conv_layers=2, kernel_size=7, stride=2,
            padding=3, pooling_kernel_size=3, pooling_stride=2, pooling_padding=1,
            num_layers=2, num_heads=4, mlp_ratio=2., num_classes=10,
            positional_embedding='learnable')
img = torch.randn(2, 3, 32, 64)
pred = model(img)
""",
         mutation=("img = torch.randn(2, 3, 32, 64)", "img = torch.randn(2, 3, 64, 64)"),
         why="square images into a model whose learnable positions are sized for 32x64"),
    dict(name="cross_vit", repo=VIT, path="vit_pytorch/cross_vit.py", blob="11156c2b55bbdda3e0d89294e46392e236488c24",
         driver="""\
v = CrossViT(image_size=64, num_classes=10, depth=1, sm_dim=32, sm_patch_size=8,
             sm_enc_depth=1, sm_enc_heads=2, sm_enc_mlp_dim=64, lg_dim=64, lg_patch_size=16,
             lg_enc_depth=1, lg_enc_heads=2, lg_enc_mlp_dim=64, cross_attn_depth=1,
             cross_attn_heads=2, dropout=0.1, emb_dropout=0.1)
img = torch.randn(2, 3, 64, 64)
pred = v(img)
""",
         mutation=("img = torch.randn(2, 3, 64, 64)", "img = torch.randn(2, 3, 128, 128)"),
         why="larger images: more patches than the positional embeddings have"),
    dict(name="deepvit", repo=VIT, path="vit_pytorch/deepvit.py", blob="a62cb7a9db759e79e832a25f24f12841665232d3",
         driver="""\
v = DeepViT(image_size=64, patch_size=16, num_classes=10, dim=64, depth=2, heads=4,
            mlp_dim=128, dropout=0.1, emb_dropout=0.1)
img = torch.randn(2, 3, 64, 64)
preds = v(img)
""",
         mutation=("img = torch.randn(2, 3, 64, 64)", "img = torch.randn(2, 3, 80, 80)"),
         why="larger images: more patches than the positional embedding has"),
    dict(name="pit", repo=VIT, path="vit_pytorch/pit.py", blob="a5bde2e1855cc3c62c6932f9d435c6afa1969001",
         driver="""\
v = PiT(image_size=56, patch_size=14, dim=64, num_classes=10, depth=(1, 1, 1), heads=4,
        mlp_dim=128, dropout=0.1, emb_dropout=0.1)
img = torch.randn(2, 3, 56, 56)
preds = v(img)
""",
         mutation=("img = torch.randn(2, 3, 56, 56)", "img = torch.randn(2, 3, 112, 112)"),
         why="larger images: more patches than the positional embedding has"),
    dict(name="levit", repo=VIT, path="vit_pytorch/levit.py", blob="a4f9f676d34bac5d64404a3c9189d6a8434a02d2",
         driver="""\
levit = LeViT(image_size=64, num_classes=10, stages=3, dim=(32, 48, 64), depth=1,
              heads=(2, 3, 4), mlp_mult=2, dropout=0.1)
img = torch.randn(2, 3, 64, 64)
out = levit(img)
""",
         mutation=("img = torch.randn(2, 3, 64, 64)", "img = torch.randn(2, 3, 128, 128)"),
         why="larger images: the attention bias is sized for the 64x64 feature maps"),
    dict(name="vit_1d", repo=VIT, path="vit_pytorch/vit_1d.py", blob="72134228c0be86ef2a90e539f68a8ad8bb0fe61a",
         driver="""\
v = ViT(seq_len=256, patch_size=16, num_classes=10, dim=64, depth=2, heads=4, mlp_dim=128,
        dropout=0.1, emb_dropout=0.1)
time_series = torch.randn(4, 3, 256)
logits = v(time_series)
""",
         mutation=("time_series = torch.randn(4, 3, 256)", "time_series = torch.randn(4, 3, 512)"),
         why="a longer series: more patches than the positional embedding has"),
    dict(name="vit_3d", repo=VIT, path="vit_pytorch/vit_3d.py", blob="d0e49ab865e4bbc56fb6ec874c539171cee0c012",
         driver="""\
v = ViT(image_size=32, frames=8, image_patch_size=16, frame_patch_size=2, num_classes=10,
        dim=64, depth=2, heads=4, mlp_dim=128, dropout=0.1, emb_dropout=0.1)
video = torch.randn(2, 3, 8, 32, 32)
preds = v(video)
""",
         mutation=("video = torch.randn(2, 3, 8, 32, 32)",
                   "video = torch.randn(2, 8, 3, 32, 32)"),
         why="frames and channels swapped (N, T, C, H, W instead of N, C, T, H, W)"),
    dict(name="vivit", repo=VIT, path="vit_pytorch/vivit.py", blob="127b4294859e2efa7f30ec4134bbbc893e4f66bd",
         driver="""\
v = ViViT(image_size=32, frames=8, image_patch_size=16, frame_patch_size=2, num_classes=10,
          dim=64, spatial_depth=1, temporal_depth=1, heads=4, mlp_dim=128,
          variant='factorized_encoder')
video = torch.randn(2, 3, 8, 32, 32)
preds = v(video)
""",
         mutation=("video = torch.randn(2, 3, 8, 32, 32)",
                   "video = torch.randn(2, 3, 16, 32, 32)"),
         why="twice the frames: more temporal patches than the positional embedding has"),
    dict(name="mobile_vit", repo=VIT, path="vit_pytorch/mobile_vit.py", blob="5427e3145f4eeec50678d0dc716c7bcaa8a6dac3",
         driver="""\
mbvit = MobileViT(image_size=(64, 64), dims=[32, 40, 48],
                  channels=[8, 16, 24, 24, 32, 32, 40, 40, 48, 48, 96], num_classes=10)
img = torch.randn(2, 3, 64, 64)
pred = mbvit(img)
""",
         mutation=("img = torch.randn(2, 3, 64, 64)", "img = torch.randn(2, 3, 64, 72)"),
         why="a width the 2x2 patches of the MobileViT blocks do not divide"),
    dict(name="cvt", repo=VIT, path="vit_pytorch/cvt.py", blob="ccf84db29fde9faf7c0550f576845cc0654ae1ab",
         driver="""\
v = CvT(num_classes=10, s1_emb_dim=32, s1_depth=1, s2_emb_dim=48, s2_depth=1,
        s3_emb_dim=64, s3_depth=1, s3_heads=2, dropout=0.)
img = torch.randn(2, 3, 64, 64)
pred = v(img)
""",
         mutation=("img = torch.randn(2, 3, 64, 64)", "img = torch.randn(2, 64, 64, 3)"),
         why="channels-last images into the convolutional token embedding"),
]

GAN = "eriklindernoren/PyTorch-GAN"
VAE = "AntixK/PyTorch-VAE"
VAE_REPLACE = {
    "from models import BaseVAE": "import torch.nn; BaseVAE = torch.nn.Module",
    "from .types_ import *": "from typing import List, Callable, Union, Any, TypeVar, Tuple; "
                             "Tensor = TypeVar('torch.tensor')",
}
GAN_DROP = ["torchvision"]

GENERATIVE = [
    dict(name="gan", repo=GAN, path="implementations/gan/gan.py", blob="d6f1d935e9273d3c692a1ad33082d54c69ec8507",
         drop_modules=GAN_DROP,
         driver="""\
imgs = torch.randn(8, opt.channels, opt.img_size, opt.img_size)
valid = torch.ones(imgs.size(0), 1)
fake = torch.zeros(imgs.size(0), 1)
z = torch.randn(imgs.shape[0], opt.latent_dim)
gen_imgs = generator(z)
g_loss = adversarial_loss(discriminator(gen_imgs), valid)
real_loss = adversarial_loss(discriminator(imgs), valid)
fake_loss = adversarial_loss(discriminator(gen_imgs.detach()), fake)
d_loss = (real_loss + fake_loss) / 2
""",
         mutation=("imgs = torch.randn(8, opt.channels, opt.img_size, opt.img_size)",
                   "imgs = torch.randn(8, 3, opt.img_size, opt.img_size)"),
         why="RGB images into a discriminator sized for 1x28x28"),
    dict(name="dcgan", repo=GAN, path="implementations/dcgan/dcgan.py", blob="46e64c0674686c6849bac33c54f4e75227077e75",
         drop_modules=GAN_DROP,
         driver="""\
imgs = torch.randn(8, opt.channels, opt.img_size, opt.img_size)
valid = torch.ones(imgs.shape[0], 1)
z = torch.randn(imgs.shape[0], opt.latent_dim)
gen_imgs = generator(z)
g_loss = adversarial_loss(discriminator(gen_imgs), valid)
real_loss = adversarial_loss(discriminator(imgs), valid)
""",
         mutation=("imgs = torch.randn(8, opt.channels, opt.img_size, opt.img_size)",
                   "imgs = torch.randn(8, opt.channels, 64, 64)"),
         why="64x64 images into a discriminator whose adv_layer is sized for 32x32"),
    dict(name="wgan_gp", repo=GAN, path="implementations/wgan_gp/wgan_gp.py", blob="17d5afbf8ae15115d465b1142b6efcfb6b1ea1c6",
         drop_modules=GAN_DROP,
         driver="""\
real_imgs = torch.randn(8, *img_shape)
z = torch.randn(real_imgs.shape[0], opt.latent_dim)
fake_imgs = generator(z)
real_validity = discriminator(real_imgs)
fake_validity = discriminator(fake_imgs)
d_loss = -torch.mean(real_validity) + torch.mean(fake_validity)
""",
         mutation=("z = torch.randn(real_imgs.shape[0], opt.latent_dim)",
                   "z = torch.randn(real_imgs.shape[0], opt.latent_dim, 1, 1)"),
         why="DCGAN-style 4-D noise into the MLP generator"),
    dict(name="acgan", repo=GAN, path="implementations/acgan/acgan.py", blob="d7fa2486c34b7b874f2cb671edf1b8b375cbd6ec",
         drop_modules=GAN_DROP,
         driver="""\
batch_size = 8
imgs = torch.randn(batch_size, opt.channels, opt.img_size, opt.img_size)
labels = torch.randint(0, opt.n_classes, (batch_size,))
z = torch.randn(batch_size, opt.latent_dim)
gen_labels = torch.randint(0, opt.n_classes, (batch_size,))
gen_imgs = generator(z, gen_labels)
validity, pred_label = discriminator(gen_imgs)
valid = torch.ones(batch_size, 1)
g_loss = 0.5 * (adversarial_loss(validity, valid) + auxiliary_loss(pred_label, gen_labels))
real_pred, real_aux = discriminator(imgs)
""",
         mutation=("z = torch.randn(batch_size, opt.latent_dim)",
                   "z = torch.randn(batch_size, opt.latent_dim // 2)"),
         why="noise of half the latent size: the label embedding product no longer broadcasts"),
    dict(name="cgan", repo=GAN, path="implementations/cgan/cgan.py", blob="9e32b7c058181ffddecd6b47fa82325410614cfc",
         drop_modules=GAN_DROP,
         driver="""\
batch_size = 8
imgs = torch.randn(batch_size, opt.channels, opt.img_size, opt.img_size)
labels = torch.randint(0, opt.n_classes, (batch_size,))
z = torch.randn(batch_size, opt.latent_dim)
gen_labels = torch.randint(0, opt.n_classes, (batch_size,))
gen_imgs = generator(z, gen_labels)
validity = discriminator(gen_imgs, gen_labels)
valid = torch.ones(batch_size, 1)
g_loss = adversarial_loss(validity, valid)
validity_real = discriminator(imgs, labels)
""",
         mutation=("gen_labels = torch.randint(0, opt.n_classes, (batch_size,))",
                   "gen_labels = torch.randint(0, opt.n_classes, (batch_size, 1))"),
         why="labels as a column: the embedding gains a dim and torch.cat fails"),
    dict(name="infogan", repo=GAN, path="implementations/infogan/infogan.py", blob="ccde076cbf0b013de23756b9540fb159f4323270",
         drop_modules=GAN_DROP,
         driver="""\
batch_size = 8
imgs = torch.randn(batch_size, opt.channels, opt.img_size, opt.img_size)
z = torch.randn(batch_size, opt.latent_dim)
label_input = to_categorical(np.random.randint(0, opt.n_classes, batch_size), num_columns=opt.n_classes)
code_input = torch.randn(batch_size, opt.code_dim)
gen_imgs = generator(z, label_input, code_input)
validity, pred_label, pred_code = discriminator(gen_imgs)
valid = torch.ones(batch_size, 1)
g_loss = adversarial_loss(validity, valid)
info_loss = continuous_loss(pred_code, code_input)
""",
         mutation=("code_input = torch.randn(batch_size, opt.code_dim)",
                   "code_input = torch.randn(batch_size, opt.code_dim + 1)"),
         why="one code dim too many: the generator input is wider than its first Linear"),
    dict(name="began", repo=GAN, path="implementations/began/began.py", blob="d9d420d85f02e8266d42966dd396e673d9c3e543",
         drop_modules=GAN_DROP,
         driver="""\
imgs = torch.randn(4, opt.channels, opt.img_size, opt.img_size)
z = torch.randn(imgs.shape[0], opt.latent_dim)
gen_imgs = generator(z)
d_real = discriminator(imgs)
d_fake = discriminator(gen_imgs.detach())
d_loss_real = torch.mean(torch.abs(d_real - imgs))
d_loss_fake = torch.mean(torch.abs(d_fake - gen_imgs.detach()))
""",
         mutation=("imgs = torch.randn(4, opt.channels, opt.img_size, opt.img_size)",
                   "imgs = torch.randn(4, opt.channels, 64, 64)"),
         why="64x64 images into an auto-encoder discriminator sized for 32x32"),
    dict(name="aae", repo=GAN, path="implementations/aae/aae.py", blob="6bfb0104a278dd87b0325ec4279ff4391a720f24",
         drop_modules=GAN_DROP,
         driver="""\
real_imgs = torch.randn(8, opt.channels, opt.img_size, opt.img_size)
encoded_imgs = encoder(real_imgs)
decoded_imgs = decoder(encoded_imgs)
valid = torch.ones(real_imgs.shape[0], 1)
g_loss = 0.001 * adversarial_loss(discriminator(encoded_imgs), valid) + \\
    0.999 * pixelwise_loss(decoded_imgs, real_imgs)
z = torch.randn(real_imgs.shape[0], opt.latent_dim)
real_loss = adversarial_loss(discriminator(z), valid)
""",
         mutation=("z = torch.randn(real_imgs.shape[0], opt.latent_dim)",
                   "z = torch.randn(real_imgs.shape[0], opt.latent_dim * 2)"),
         why="prior samples twice the latent size into the latent discriminator"),
    dict(name="context_encoder", repo=GAN, path="implementations/context_encoder/models.py",
         blob="2b9bb1f123b4da02a1b7194972dc26a558faa17e",
         driver="""\
generator = Generator(channels=3)
discriminator = Discriminator(channels=3)
masked_imgs = torch.randn(4, 3, 128, 128)
masked_parts = torch.randn(4, 3, 64, 64)
gen_parts = generator(masked_imgs)
validity = discriminator(gen_parts)
pixel_loss = nn.L1Loss()(gen_parts, masked_parts)
""",
         mutation=("masked_parts = torch.randn(4, 3, 64, 64)",
                   "masked_parts = torch.randn(4, 3, 32, 32)"),
         why="the cut-out patch at half the size the generator fills"),
    dict(name="cyclegan", repo=GAN, path="implementations/cyclegan/models.py", blob="990384c5bf26a9a9099d581809951d7e7b7b3bc2",
         driver="""\
input_shape = (3, 64, 64)
G_AB = GeneratorResNet(input_shape, 3)
D_A = Discriminator(input_shape)
real_A = torch.randn(2, *input_shape)
valid = torch.ones(real_A.size(0), *D_A.output_shape)
fake_B = G_AB(real_A)
loss_GAN = nn.MSELoss()(D_A(fake_B), valid)
""",
         mutation=("real_A = torch.randn(2, *input_shape)", "real_A = torch.randn(2, 1, 64, 64)"),
         why="grayscale images into a 3-channel CycleGAN"),
    dict(name="pix2pix", repo=GAN, path="implementations/pix2pix/models.py", blob="faec1e1d67ce208a6dfc07a8f927e02cb1e7a92b",
         driver="""\
generator = GeneratorUNet()
discriminator = Discriminator()
real_A = torch.randn(1, 3, 256, 256)
real_B = torch.randn(1, 3, 256, 256)
fake_B = generator(real_A)
pred_fake = discriminator(fake_B, real_A)
patch = (1, 256 // 2 ** 4, 256 // 2 ** 4)
valid = torch.ones(real_A.size(0), *patch)
loss_GAN = nn.MSELoss()(pred_fake, valid)
""",
         mutation=("real_A = torch.randn(1, 3, 256, 256)", "real_A = torch.randn(1, 3, 288, 288)"),
         why="288x288 images: 9x9 halves to 4x4, doubled back to 8x8 before the skip torch.cat"),
    dict(name="srgan", repo=GAN, path="implementations/srgan/models.py", blob="b8efd3c0203f52b8561c8d4905047640762f2918",
         drop_modules=["torchvision"],
         driver="""\
generator = GeneratorResNet(n_residual_blocks=4)
discriminator = Discriminator(input_shape=(3, 64, 64))
imgs_lr = torch.randn(2, 3, 16, 16)
gen_hr = generator(imgs_lr)
valid = torch.ones(imgs_lr.size(0), *discriminator.output_shape)
loss_GAN = nn.MSELoss()(discriminator(gen_hr), valid)
""",
         mutation=("imgs_lr = torch.randn(2, 3, 16, 16)", "imgs_lr = torch.randn(2, 3, 32, 32)"),
         why="low-res images at twice the size the discriminator's patch map is sized for"),
    dict(name="vanilla_vae", repo=VAE, path="models/vanilla_vae.py", blob="768d25b5115974999c64751da325acb70867adca",
         replace=VAE_REPLACE,
         driver="""\
model = VanillaVAE(in_channels=3, latent_dim=16)
x = torch.randn(4, 3, 64, 64)
recons, inp, mu, log_var = model(x)
losses = model.loss_function(recons, inp, mu, log_var, M_N=0.005)
samples = model.sample(2, 'cpu')
""",
         mutation=("x = torch.randn(4, 3, 64, 64)", "x = torch.randn(4, 3, 32, 32)"),
         why="32x32 images: the encoder's output is 1x1, fc_mu is sized for 2x2"),
    dict(name="beta_vae", repo=VAE, path="models/beta_vae.py", blob="7d709a1b7790a4cdc52d20ace61cd743042047ad",
         replace=VAE_REPLACE,
         driver="""\
model = BetaVAE(in_channels=1, latent_dim=10, loss_type='B')
x = torch.randn(4, 1, 64, 64)
recons, inp, mu, log_var = model(x)
losses = model.loss_function(recons, inp, mu, log_var, M_N=0.005)
""",
         mutation=("x = torch.randn(4, 1, 64, 64)", "x = torch.randn(4, 3, 64, 64)"),
         why="RGB images into a VAE built for one channel"),
    dict(name="cvae", repo=VAE, path="models/cvae.py", blob="7886ae966eafbb629fdd9ec814ee3e1d90503415",
         replace=VAE_REPLACE,
         driver="""\
model = ConditionalVAE(in_channels=3, num_classes=10, latent_dim=16, img_size=64)
x = torch.randn(4, 3, 64, 64)
y = F.one_hot(torch.randint(0, 10, (4,)), 10).float()
recons, inp, mu, log_var = model(x, labels=y)
""",
         mutation=("y = F.one_hot(torch.randint(0, 10, (4,)), 10).float()",
                   "y = F.one_hot(torch.randint(0, 10, (4,)), 12).float()"),
         why="one-hot labels over 12 classes into a model embedding 10"),
    dict(name="wae_mmd", repo=VAE, path="models/wae_mmd.py", blob="f44c509a58e1ccc98684a3125b266035e72dbb89",
         replace=VAE_REPLACE,
         driver="""\
model = WAE_MMD(in_channels=3, latent_dim=16, reg_weight=100)
x = torch.randn(4, 3, 64, 64)
recons, inp, z = model(x)
losses = model.loss_function(recons, inp, z)
""",
         mutation=("x = torch.randn(4, 3, 64, 64)", "x = torch.randn(4, 3, 128, 128)"),
         why="128x128 images: the encoder's 4x4 output does not fit fc_z (sized for 2x2)"),
    dict(name="vq_vae", repo=VAE, path="models/vq_vae.py", blob="bd2249c64ead07722fd156203ddc2b66ad5ab0cf",
         replace=VAE_REPLACE,
         driver="""\
model = VQVAE(in_channels=3, embedding_dim=16, num_embeddings=32, hidden_dims=[32, 64])
x = torch.randn(2, 3, 32, 32)
recons, inp, vq_loss = model(x)
losses = model.loss_function(recons, inp, vq_loss)
""",
         mutation=("x = torch.randn(2, 3, 32, 32)", "x = torch.randn(2, 1, 32, 32)"),
         why="grayscale images into an RGB encoder"),
]

TUTORIAL = "yunjey/pytorch-tutorial"
TUT = "tutorials/"
MNIST_DRIVER = """\
images = torch.randn(4, 1, 28, 28)
labels = torch.randint(0, 10, (4,))
outputs = model(%s)
loss = criterion(outputs, labels)
_, predicted = torch.max(outputs.data, 1)
"""

# Tutorial and reference code that people copy from; the set was made after the analysis work
# of session 17, to see how it generalizes (none of its files was read before).
TUTORIALS = [
    dict(name="tut_feedforward", repo=TUTORIAL,
         path=TUT + "01-basics/feedforward_neural_network/main.py",
         blob="0c766a7eab255012a1c0a7f72a92b7bafbc140b8", drop_modules=["torchvision"],
         driver=MNIST_DRIVER % "images.reshape(-1, 28*28).to(device)",
         mutation=("images = torch.randn(4, 1, 28, 28)", "images = torch.randn(4, 1, 32, 32)"),
         why="32x32 images flattened for a 784-wide input layer"),
    dict(name="tut_cnn", repo=TUTORIAL,
         path=TUT + "02-intermediate/convolutional_neural_network/main.py",
         blob="ec904f1fa4826e7d397858c0d919fcbb17fa4257", drop_modules=["torchvision"],
         driver=MNIST_DRIVER % "images.to(device)",
         mutation=("images = torch.randn(4, 1, 28, 28)", "images = torch.randn(4, 1, 32, 32)"),
         why="32x32 images: fc is sized for 7*7*32 features"),
    dict(name="tut_resnet", repo=TUTORIAL,
         path=TUT + "02-intermediate/deep_residual_network/main.py",
         blob="69dbe5fb0efa5e455c694af80c0378773fce19c7", drop_modules=["torchvision"],
         driver="""\
images = torch.randn(2, 3, 32, 32)
labels = torch.randint(0, 10, (2,))
outputs = model(images)
loss = criterion(outputs, labels)
""",
         mutation=("images = torch.randn(2, 3, 32, 32)", "images = torch.randn(2, 3, 64, 64)"),
         why="64x64 images: AvgPool2d(8) leaves 2x2, fc is sized for 1x1"),
    dict(name="tut_rnn", repo=TUTORIAL,
         path=TUT + "02-intermediate/recurrent_neural_network/main.py",
         blob="c138c5ad4e14466c4abf89918a21a90f77723d85", drop_modules=["torchvision"],
         driver=MNIST_DRIVER % "images.reshape(-1, sequence_length, input_size).to(device)",
         mutation=("images.reshape(-1, sequence_length, input_size)",
                   "images.reshape(-1, input_size // 2, sequence_length * 2)"),
         why="rows of 56 features into an LSTM built for 28"),
    dict(name="tut_birnn", repo=TUTORIAL,
         path=TUT + "02-intermediate/bidirectional_recurrent_neural_network/main.py",
         blob="a0ecd77347d59005c23d359d36a3663684e2ba0a", drop_modules=["torchvision"],
         driver=MNIST_DRIVER % "images.reshape(-1, sequence_length, input_size).to(device)",
         mutation=("images = torch.randn(4, 1, 28, 28)", "images = torch.randn(4, 1, 28, 27)"),
         why="27-pixel rows reshaped to 28 features: the element count no longer divides"),
    dict(name="tut_vae", repo=TUTORIAL, path=TUT + "03-advanced/variational_autoencoder/main.py",
         blob="fe476d83173a908e4d1ab8a66e91d921adfc5a02", drop_modules=["torchvision"],
         driver="""\
x = torch.randn(4, 1, 28, 28).to(device).view(-1, image_size)
x_reconst, mu, log_var = model(x)
reconst_loss = F.binary_cross_entropy(torch.sigmoid(x_reconst), torch.rand_like(x),
                                      reduction='sum')
kl_div = - 0.5 * torch.sum(1 + log_var - mu.pow(2) - log_var.exp())
""",
         mutation=("torch.rand_like(x)", "torch.rand(4, 28, 28)"),
         why="targets of [4, 28, 28] for reconstructions of [4, 784]"),
    dict(name="tut_gan", repo=TUTORIAL,
         path=TUT + "03-advanced/generative_adversarial_network/main.py",
         blob="c2062cf398e018929b53e6e7599c890388aca735", drop_modules=["torchvision"],
         driver="""\
images = torch.randn(4, 1, 28, 28).reshape(4, -1).to(device)
real_labels = torch.ones(4, 1).to(device)
outputs = D(images)
d_loss_real = criterion(outputs, real_labels)
z = torch.randn(4, latent_size).to(device)
fake_images = G(z)
outputs = D(fake_images)
""",
         mutation=("z = torch.randn(4, latent_size)", "z = torch.randn(4, hidden_size)"),
         why="noise of the hidden size into a generator built for the latent size"),
    dict(name="unet_parts", repo="milesial/Pytorch-UNet", path="unet/unet_parts.py",
         blob="986ba251f4b15aadd5261093074d2581f3d3f5b8",
         driver="""\
inc = DoubleConv(3, 16)
down1 = Down(16, 32)
up1 = Up(32, 16, bilinear=False)
up2 = Up(48, 16, bilinear=True)
x1 = inc(torch.randn(1, 3, 37, 45))
x2 = down1(x1)
y = up1(x2, x1)
y2 = up2(x2, x1)
logits = OutConv(16, 2)(y)
""",
         mutation=("up1 = Up(32, 16, bilinear=False)", "up1 = Up(64, 16, bilinear=False)"),
         why="an up block built for 64 channels gets 32"),
    dict(name="attention_modules", repo="jadore801120/attention-is-all-you-need-pytorch",
         path="transformer/Modules.py", blob="3236281b75e30748140664e1fe95a995ffc9c230",
         driver="""\
attn = ScaledDotProductAttention(temperature=8 ** 0.5)
q = torch.randn(2, 4, 5, 8)
k = torch.randn(2, 4, 7, 8)
v = torch.randn(2, 4, 7, 8)
mask = torch.ones(2, 1, 5, 7)
out, weights = attn(q, k, v, mask=mask)
""",
         mutation=("k = torch.randn(2, 4, 7, 8)", "k = torch.randn(2, 4, 7, 6)"),
         why="keys of another head size than the queries"),
]

SETS = {"cifar": CIFAR, "transformers": TRANSFORMERS, "generative": GENERATIVE,
        "tutorials": TUTORIALS}
