using Hotline.Reports.Facts;

namespace Hotline.Reports.Tests;

public class MaskingTests
{
    [Fact]
    public void Phone_keeps_first_three_and_last_four() => Assert.Equal("138****5678", Masking.Phone("13812345678"));

    [Fact]
    public void Name_keeps_the_surname() => Assert.Equal("张*", Masking.Name("张三"));

    [Fact]
    public void Text_masks_mobiles_and_id_numbers_but_not_other_digits()
    {
        var s = Masking.Text("来电人13812345678反映，身份证号11010119900307123X，工单号202505120001234，门牌12号");
        Assert.Equal("来电人138****5678反映，身份证号110101********123X，工单号202505120001234，门牌12号", s);
    }
}
