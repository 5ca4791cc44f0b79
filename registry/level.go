package registry

import "fmt"

// Level is a vocational skill level. Level 1 (一级/高级技师) is the highest,
// level 5 (五级/初级工) the lowest. The type is an int so that the ladder can
// grow (学徒工 below 5, 特级技师 and 首席技师 above 1) without a new type.
type Level int

// The five levels that certificates carry today.
const (
	Level1 Level = 1 // 一级 / 高级技师
	Level2 Level = 2 // 二级 / 技师
	Level3 Level = 3 // 三级 / 高级工
	Level4 Level = 4 // 四级 / 中级工
	Level5 Level = 5 // 五级 / 初级工
)

var levelNames = map[Level]string{
	Level1: "一级/高级技师",
	Level2: "二级/技师",
	Level3: "三级/高级工",
	Level4: "四级/中级工",
	Level5: "五级/初级工",
}

// Valid reports whether l is a level that can be certified.
func (l Level) Valid() bool { _, ok := levelNames[l]; return ok }

// Name returns the level's Chinese name, e.g. "二级/技师".
func (l Level) Name() string {
	if n, ok := levelNames[l]; ok {
		return n
	}
	return fmt.Sprintf("%d级", int(l))
}

// Channel is one of the four evaluation channels of the plan.
type Channel string

// The evaluation channels.
const (
	ChannelSocial     Channel = "social"     // 社会化职业技能鉴定
	ChannelEnterprise Channel = "enterprise" // 企业技能劳动者评价
	ChannelSchool     Channel = "school"     // 职业院校资格认证
	ChannelSpecial    Channel = "special"    // 专项职业技能考核
)

var channelNames = map[Channel]string{
	ChannelSocial:     "社会化职业技能鉴定",
	ChannelEnterprise: "企业技能劳动者评价",
	ChannelSchool:     "职业院校资格认证",
	ChannelSpecial:    "专项职业技能考核",
}

// Valid reports whether c is one of the four channels.
func (c Channel) Valid() bool { _, ok := channelNames[c]; return ok }

// Name returns the channel's Chinese name.
func (c Channel) Name() string { return channelNames[c] }
