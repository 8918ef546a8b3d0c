package openapi

// DefaultRegions returns the RegionIds of Alibaba Cloud's public regions,
// the regions a server accepts when it is not told otherwise.
func DefaultRegions() []string {
	return []string{
		"cn-hangzhou", "cn-shanghai", "cn-qingdao", "cn-beijing", "cn-zhangjiakou",
		"cn-huhehaote", "cn-wulanchabu", "cn-shenzhen", "cn-heyuan", "cn-guangzhou",
		"cn-chengdu", "cn-hongkong", "ap-northeast-1", "ap-northeast-2", "ap-southeast-1",
		"ap-southeast-2", "ap-southeast-3", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7",
		"ap-south-1", "us-east-1", "us-west-1", "eu-west-1", "eu-central-1",
		"me-east-1", "me-central-1",
	}
}
