//! People as a Guangzhou register holds them: names (common and rare
//! characters, compound surnames, minority names with `·`, foreigners),
//! mobile numbers, GB 11643 identity numbers, home regions and education.

use jiff::civil::Date;

use super::random::Gen;
use gridwork_core::model::Education;

/// A birth-registration region: the first six digits of an ID number and
/// the registered residence (户籍地) it stands for.
#[derive(Debug)]
pub(super) struct Region {
    pub code: &'static str,
    pub residence: &'static str,
    /// Ethnicities of people registered there, weighted.
    pub ethnicities: &'static [(&'static str, u32)],
    /// The year the code was abolished, if it was: nobody born from then
    /// on has it, older numbers keep it.
    pub abolished: Option<i16>,
}

const HAN: &[(&str, u32)] = &[("汉族", 1)];

const fn region(code: &'static str, residence: &'static str) -> Region {
    Region {
        code,
        residence,
        ethnicities: HAN,
        abolished: None,
    }
}

/// Guangzhou districts, weighted towards Tianhe. 440102 (东山区) was merged
/// into Yuexiu in 2005; people born before keep it.
pub(super) const LOCAL: &[(Region, u32)] = &[
    (region("440106", "广东省广州市天河区"), 50),
    (region("440104", "广东省广州市越秀区"), 12),
    (region("440103", "广东省广州市荔湾区"), 8),
    (region("440105", "广东省广州市海珠区"), 10),
    (region("440111", "广东省广州市白云区"), 8),
    (region("440112", "广东省广州市黄埔区"), 4),
    (
        Region {
            code: "440102",
            residence: "广东省广州市越秀区",
            ethnicities: HAN,
            abolished: Some(2005),
        },
        8,
    ),
];

/// Where Guangzhou's migrant workers come from, weighted.
pub(super) const MIGRANT: &[(Region, u32)] = &[
    (region("430521", "湖南省邵阳市邵东县"), 8),
    (region("431121", "湖南省永州市祁阳县"), 6),
    (region("360121", "江西省南昌市南昌县"), 5),
    (region("360730", "江西省赣州市宁都县"), 5),
    (
        Region {
            code: "450881",
            residence: "广西壮族自治区贵港市桂平市",
            ethnicities: &[("汉族", 6), ("壮族", 4)],
            abolished: None,
        },
        6,
    ),
    (
        Region {
            code: "451002",
            residence: "广西壮族自治区百色市右江区",
            ethnicities: &[("汉族", 3), ("壮族", 7)],
            abolished: None,
        },
        3,
    ),
    (region("511321", "四川省南充市南部县"), 6),
    (region("510722", "四川省绵阳市三台县"), 4),
    (region("420984", "湖北省孝感市汉川市"), 5),
    (region("410526", "河南省安阳市滑县"), 5),
    (region("411723", "河南省驻马店市平舆县"), 4),
    (region("350583", "福建省泉州市南安市"), 3),
    (
        Region {
            code: "522631",
            residence: "贵州省黔东南苗族侗族自治州黄平县",
            ethnicities: &[("汉族", 4), ("苗族", 5), ("侗族", 1)],
            abolished: None,
        },
        3,
    ),
    (
        Region {
            code: "433101",
            residence: "湖南省湘西土家族苗族自治州吉首市",
            ethnicities: &[("汉族", 4), ("土家族", 4), ("苗族", 2)],
            abolished: None,
        },
        2,
    ),
    (region("441581", "广东省汕尾市陆丰市"), 6),
    (region("445221", "广东省揭阳市揭东县"), 5),
    (region("440882", "广东省湛江市雷州市"), 5),
    (region("441423", "广东省梅州市丰顺县"), 4),
    (region("370283", "山东省青岛市平度市"), 2),
    (
        Region {
            code: "230103",
            residence: "黑龙江省哈尔滨市南岗区",
            ethnicities: &[("汉族", 8), ("满族", 2)],
            abolished: None,
        },
        1,
    ),
    (
        Region {
            code: "640104",
            residence: "宁夏回族自治区银川市兴庆区",
            ethnicities: &[("汉族", 6), ("回族", 4)],
            abolished: None,
        },
        1,
    ),
    (
        Region {
            code: "653101",
            residence: "新疆维吾尔自治区喀什地区喀什市",
            ethnicities: &[("维吾尔族", 9), ("汉族", 1)],
            abolished: None,
        },
        1,
    ),
];

/// Hong Kong, Macao and Taiwan residents hold residence permits (居住证)
/// numbered like ID cards with these regions.
pub(super) const COMPATRIOT: &[(Region, u32)] = &[
    (region("810000", "香港特别行政区"), 6),
    (region("820000", "澳门特别行政区"), 3),
    (region("830000", "台湾地区"), 2),
];

/// A region for someone born in `year`: an abolished code is swapped for
/// its successor after it went.
pub(super) fn region_for(
    g: &mut Gen,
    pool: &'static [(Region, u32)],
    year: i16,
) -> &'static Region {
    let r = g.weighted_ref(pool);
    if r.abolished.is_some_and(|y| year >= y) {
        &LOCAL[1].0
    } else {
        r
    }
}

/// An ethnicity of someone registered in `region`.
pub(super) fn ethnicity(g: &mut Gen, region: &Region) -> &'static str {
    g.weighted(region.ethnicities)
}

/// Surnames by rough frequency, with Guangdong's (陈, 黄, 梁, 何, 冯, 麦,
/// 邝, 冼 …) weighted up.
const SURNAMES: &[(&str, u32)] = &[
    ("陈", 90),
    ("李", 70),
    ("黄", 65),
    ("张", 50),
    ("梁", 45),
    ("刘", 40),
    ("林", 38),
    ("王", 38),
    ("何", 30),
    ("吴", 28),
    ("杨", 25),
    ("郭", 20),
    ("罗", 22),
    ("郑", 20),
    ("谢", 18),
    ("周", 18),
    ("冯", 16),
    ("叶", 16),
    ("徐", 14),
    ("曾", 15),
    ("邓", 15),
    ("赵", 12),
    ("朱", 12),
    ("胡", 12),
    ("钟", 12),
    ("卢", 10),
    ("潘", 10),
    ("蔡", 10),
    ("谭", 10),
    ("彭", 9),
    ("麦", 8),
    ("苏", 8),
    ("余", 7),
    ("孙", 7),
    ("马", 7),
    ("高", 7),
    ("邝", 5),
    ("区", 4),
    ("冼", 4),
    ("温", 6),
    ("萧", 5),
    ("陆", 5),
    ("欧", 4),
    ("韦", 4),
    ("莫", 4),
    ("许", 6),
    ("宋", 5),
    ("唐", 6),
    ("汤", 4),
    ("方", 5),
    ("袁", 5),
    ("邱", 5),
    ("石", 4),
    ("姚", 4),
    ("廖", 6),
    ("严", 3),
    ("龚", 3),
    ("欧阳", 2),
    ("司徒", 2),
    ("上官", 1),
    ("诸葛", 1),
];

/// Surnames common among some minorities, used for those ethnicities.
fn minority_surnames(ethnicity: &str) -> Option<&'static [&'static str]> {
    match ethnicity {
        "壮族" => Some(&["韦", "覃", "黄", "莫", "蓝", "农", "陆"]),
        "回族" => Some(&["马", "丁", "白", "杨", "海"]),
        "苗族" | "侗族" | "土家族" => Some(&["吴", "龙", "杨", "向", "田", "彭", "石"]),
        "满族" => Some(&["关", "佟", "金", "那", "赵"]),
        _ => None,
    }
}

/// A surname for someone of `ethnicity`.
pub(super) fn surname(g: &mut Gen, ethnicity: &str) -> &'static str {
    match minority_surnames(ethnicity) {
        Some(list) if g.chance(0.7) => g.pick(list),
        _ => g.weighted(SURNAMES),
    }
}

const MALE_GIVEN: &[&str] = &[
    "伟", "强", "军", "磊", "勇", "杰", "涛", "明", "超", "辉", "华", "建", "国", "志", "文", "斌",
    "鹏", "宇", "浩", "俊", "峰", "林", "东", "海", "平", "刚", "波", "健", "龙", "锋", "荣", "新",
    "嘉", "家", "子", "梓", "轩", "宏", "振", "德", "耀", "威", "锦", "达", "基", "炳", "权", "棠",
    "铭", "永", "泽", "晖", "坤", "昌", "盛", "祖", "伦", "乐", "翔", "楠",
];

const FEMALE_GIVEN: &[&str] = &[
    "芳", "娜", "敏", "静", "丽", "秀", "英", "燕", "霞", "玲", "婷", "雪", "慧", "琳", "颖", "洁",
    "晶", "倩", "红", "梅", "兰", "凤", "萍", "欣", "怡", "佳", "妍", "雨", "琪", "诗", "婉", "咏",
    "嘉", "淑", "珊", "彩", "翠", "桂", "月", "玉", "莲", "珍", "凤", "宝", "晓", "思", "颖", "蕙",
    "嫦", "好", "带", "娣", "妹", "媚", "艳", "韵", "瑜", "茵", "莹", "婵",
];

/// Characters of real names that are rare in fonts and input methods:
/// extension A (䶮 U+4DAE, 㐂 U+3402) and B (𠮷 U+20BB7) among them.
const RARE_GIVEN: &[&str] = &[
    "\u{4DAE}",
    "\u{3402}",
    "\u{20BB7}",
    "堃",
    "喆",
    "淼",
    "燚",
    "昇",
    "玥",
    "珺",
    "赟",
    "彧",
    "翀",
    "犇",
    "垚",
    "鑫",
    "沄",
];

/// A given name of one or two characters; a few carry a rare character.
pub(super) fn given_name(g: &mut Gen, male: bool) -> String {
    let pool = if male { MALE_GIVEN } else { FEMALE_GIVEN };
    let mut name = String::new();
    let len = if g.chance(0.2) { 1 } else { 2 };
    for _ in 0..len {
        if g.chance(0.012) {
            name.push_str(g.pick(RARE_GIVEN));
        } else {
            name.push_str(g.pick(pool));
        }
    }
    name
}

/// A full Chinese name.
pub(super) fn chinese_name(g: &mut Gen, surname: &str, male: bool) -> String {
    let mut name = surname.to_string();
    name.push_str(&given_name(g, male));
    name
}

const UYGHUR_MALE: &[&str] = &[
    "买买提",
    "艾力",
    "阿不都",
    "热合曼",
    "吐尔逊",
    "艾尔肯",
    "阿卜杜拉",
    "努尔",
    "伊力哈木",
    "麦麦提",
    "亚森",
];
const UYGHUR_FEMALE: &[&str] = &[
    "阿依古丽",
    "古丽米热",
    "热依拉",
    "迪丽努尔",
    "帕提古丽",
    "米日古丽",
    "努尔古丽",
    "再努尔",
];

/// A Uyghur name, own name · father's name (买买提·艾力). `father` is the
/// father's own name when he is known.
pub(super) fn uyghur_name(g: &mut Gen, male: bool, father: Option<&str>) -> String {
    let own = g.pick(if male { UYGHUR_MALE } else { UYGHUR_FEMALE });
    let father = match father {
        Some(f) => f.to_string(),
        None => {
            let mut f = g.pick(UYGHUR_MALE);
            while f == own {
                f = g.pick(UYGHUR_MALE);
            }
            f.to_string()
        }
    };
    format!("{own}·{father}")
}

/// The own-name part of a name written own·father.
pub(super) fn own_name(name: &str) -> &str {
    name.split('·').next().unwrap_or(name)
}

/// A foreign resident: name in Latin letters, nationality, passport prefix.
const FOREIGNERS: &[(&str, bool, &str, &str)] = &[
    ("John Smith", true, "美国", ""),
    ("Emily Johnson", false, "美国", ""),
    ("Kim Min-jun", true, "韩国", "M"),
    ("Park Ji-yeon", false, "韩国", "M"),
    ("Nguyễn Văn An", true, "越南", "C"),
    ("Nguyễn Thị Hoa", false, "越南", "C"),
    ("Tanaka Hiroshi", true, "日本", "TK"),
    ("Sato Yuki", false, "日本", "TK"),
    ("Jean-Pierre Dubois", true, "法国", "18"),
    ("Lucas Müller", true, "德国", "C"),
    ("Olga Ivanova", false, "俄罗斯", "75"),
    ("Maria Santos", false, "巴西", "F"),
    ("Ahmed Khan", true, "巴基斯坦", "AB"),
    ("Chloe O'Brien", false, "爱尔兰", "P"),
];

/// A foreigner: (name, male, nationality, passport number).
pub(super) fn foreigner(g: &mut Gen) -> (String, bool, &'static str, String) {
    let (name, male, nationality, prefix) = g.pick(FOREIGNERS);
    let digits = 9 - prefix.len().min(2);
    let passport = format!("{prefix}{}", g.digits(digits));
    (name.to_string(), male, nationality, passport)
}

/// Three-digit mobile prefixes in use in mainland China.
const MOBILE_PREFIXES: &[&str] = &[
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "147", "150", "151",
    "152", "153", "155", "156", "157", "158", "159", "166", "173", "175", "176", "177", "178",
    "180", "181", "182", "183", "184", "185", "186", "187", "188", "189", "191", "198", "199",
];

/// A mobile number matching `^1[3-9]\d{9}$`.
pub(super) fn mobile(g: &mut Gen) -> String {
    let mut number = g.pick(MOBILE_PREFIXES).to_string();
    number.push_str(&g.digits(8));
    number
}

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// GB 11643's check character for the first 17 digits. Kept here rather
/// than borrowed from `validate` so the demo checks the validator instead
/// of trusting it.
pub(super) fn check_character(first17: &str) -> char {
    let sum: u32 = first17
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    CHECK[(sum % 11) as usize]
}

/// An 18-character ID number: region, birth date, a sequence whose parity
/// is the gender (odd = male), check character.
pub(super) fn id_number(g: &mut Gen, region: &str, birth: Date, male: bool) -> String {
    let k: u32 = g.range(0..499);
    let sequence = if male { 2 * k + 1 } else { 2 * k + 2 };
    let mut id = format!(
        "{region}{:04}{:02}{:02}{sequence:03}",
        birth.year(),
        birth.month(),
        birth.day()
    );
    let check = check_character(&id);
    id.push(check);
    id
}

/// The education of someone aged `age`; `None` below school age.
pub(super) fn education(g: &mut Gen, age: i32, migrant: bool) -> Option<Education> {
    use Education::{Bachelor, College, JuniorHigh, Postgraduate, Primary, SeniorHigh, Vocational};
    let level = match age {
        ..6 => return None,
        6..=11 => Primary,
        12..=14 => JuniorHigh,
        15..=17 => g.weighted(&[(SeniorHigh, 7), (Vocational, 3)]),
        18..=22 => g.weighted(&[
            (SeniorHigh, 3),
            (Vocational, 3),
            (College, 3),
            (Bachelor, 4),
        ]),
        _ if age >= 65 => g.weighted(&[
            (Education::None, 2),
            (Primary, 5),
            (JuniorHigh, 4),
            (SeniorHigh, 2),
            (College, 1),
        ]),
        _ if migrant => g.weighted(&[
            (Primary, 2),
            (JuniorHigh, 8),
            (SeniorHigh, 4),
            (Vocational, 3),
            (College, 2),
            (Bachelor, 1),
        ]),
        _ => g.weighted(&[
            (JuniorHigh, 3),
            (SeniorHigh, 4),
            (Vocational, 2),
            (College, 3),
            (Bachelor, 5),
            (Postgraduate, 1),
        ]),
    };
    Some(level)
}
